import http from 'node:http';
import { AcceleratorTypesClient, RegionsClient } from '@google-cloud/compute';
import { ClusterManagerClient } from '@google-cloud/container';
import { OAuth2Client } from 'google-auth-library';
const srv = http.createServer((req, res) => {
  console.log('REQ', req.method, req.url, JSON.stringify(req.headers).slice(0, 300));
  res.setHeader('content-type', 'application/json');
  if (req.url!.includes('aggregated')) res.end(JSON.stringify({ items: { 'zones/us-central1-a': { acceleratorTypes: [{ name: 'nvidia-l4', zone: 'https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a', maximumCardsPerInstance: 8 }] } } }));
  else if (req.url!.includes('clusters')) res.end(JSON.stringify({ clusters: [{ name: 'c1', location: 'us-central1', autopilot: { enabled: true }, status: 'RUNNING' }] }));
  else res.end(JSON.stringify({ items: [{ name: 'us-central1', quotas: [{ metric: 'NVIDIA_L4_GPUS', limit: 8, usage: 1 }] }] }));
});
srv.listen(0, '127.0.0.1', async () => {
  const port = (srv.address() as any).port;
  const auth = new OAuth2Client(); auth.setCredentials({ access_token: 'sandbox-token', expiry_date: Date.now() + 3600e3 });
  const opts = { apiEndpoint: '127.0.0.1', port, protocol: 'http', fallback: true, authClient: auth } as any;
  const acc = new AcceleratorTypesClient(opts);
  for await (const [k, v] of acc.aggregatedListAsync({ project: 'p' })) console.log('ACC', k, JSON.stringify(v).slice(0, 200));
  const [regions] = await new RegionsClient(opts).list({ project: 'p' });
  console.log('REG', JSON.stringify(regions).slice(0, 300));
  const cm = new ClusterManagerClient(opts);
  const [list] = await cm.listClusters({ parent: 'projects/p/locations/-' });
  console.log('CL', JSON.stringify(list).slice(0, 300));
  srv.close();
});
