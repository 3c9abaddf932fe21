/**
 * A complete, valid fleet used by tests and docs: two active L4 regions on different continents
 * and one T4 standby. Independent of fleet-config/fleet.yaml, which users edit.
 */
export const EXAMPLE_FLEET_YAML = `# yaml-language-server: $schema=./fleet.schema.json
apiVersion: gpu-fleet.dev/v1alpha1
kind: Fleet
project: sd-fleet-test-4821
configSync:
  repo: https://github.com/gpu-fleet/gpu-fleet
  branch: main
app:
  name: sd-webui
  image: us-docker.pkg.dev/sd-fleet-test-4821/gpu-fleet/stable-diffusion-webui@sha256:0f4b5f9ce0f8b6e3c2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9
  resources:
    cpu: "4"
    memory: 16Gi
  modelStorage:
    bucket: sd-fleet-test-4821-models
gpu:
  preferences: [nvidia-l4, nvidia-tesla-t4]
  count: 1
ingress:
  staticIp:
    name: sd-webui-ip
    address: 34.149.46.112
  domains: [sd.gpu-fleet.dev]
  preSharedCertificates: [sd-webui-cert]
  iap: {members: [group:sd-users@gpu-fleet.dev]}
placement:
  candidateRegions: [us-central1, europe-west4, asia-northeast1]
  minServingRegions: 2
  maxServingRegions: 3
infra: {githubActions: {repositoryId: "893412765", repositoryOwnerId: "182736451"}}
clusters:
  # the scout edits this list
  - name: sd-us-central1
    region: us-central1
    mode: active
    gpu: nvidia-l4
    replicas: 1
  - name: sd-europe-west4
    region: europe-west4
    mode: active
    gpu: nvidia-l4
    replicas: 2
  - name: sd-asia-northeast1
    region: asia-northeast1
    mode: standby
    gpu: nvidia-tesla-t4
    replicas: 1
`;
