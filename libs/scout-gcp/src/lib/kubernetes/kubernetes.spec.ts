import { CONNECT_GATEWAY_ROOT, connectGatewayHost, gatewayServer } from './kubernetes';

describe('Connect Gateway server per membership location', () => {
  const target = { gateway: CONNECT_GATEWAY_ROOT, projectNumber: '123456789012', membership: 'sd-us-central1' };

  it('sends a global membership to the global host', () => {
    expect(gatewayServer({ ...target, location: 'global' })).toBe(
      'https://connectgateway.googleapis.com/v1/projects/123456789012/locations/global/gkeMemberships/sd-us-central1',
    );
  });

  it('sends a regional membership to its region-prefixed host, keeping the location in the path', () => {
    expect(connectGatewayHost('us-central1')).toBe('us-central1-connectgateway.googleapis.com');
    expect(gatewayServer({ ...target, location: 'us-central1' })).toBe(
      'https://us-central1-connectgateway.googleapis.com/v1/projects/123456789012/locations/us-central1/gkeMemberships/sd-us-central1',
    );
  });

  it('fills {host} in an override (the sandbox) and leaves a fixed root (a proxy) as written', () => {
    expect(gatewayServer({ ...target, gateway: 'http://127.0.0.1:8080/{host}/', location: 'europe-west4' })).toBe(
      'http://127.0.0.1:8080/europe-west4-connectgateway.googleapis.com/v1/projects/123456789012/locations/europe-west4/gkeMemberships/sd-us-central1',
    );
    expect(gatewayServer({ ...target, gateway: 'https://gw.internal.example', location: 'europe-west4' })).toBe(
      'https://gw.internal.example/v1/projects/123456789012/locations/europe-west4/gkeMemberships/sd-us-central1',
    );
  });
});
