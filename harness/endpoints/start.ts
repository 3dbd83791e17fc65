import { closeJsseFronts, startJsseEndpoint } from './jsse/jsse-endpoint.ts';
import type { EndpointSpec } from './spec.ts';
import { startEndpoint as startNodeTlsEndpoint, type Endpoint, type EndpointContext } from './tls-endpoint.ts';

// The one way the run loop starts a platform endpoint: by kind, a Node TLS server or a listener
// in the shared JSSE (Java 7) front. Both give the same Endpoint and the same observations.

export type { Endpoint, EndpointContext } from './tls-endpoint.ts';

export function startEndpoint(spec: EndpointSpec, ctx: EndpointContext): Promise<Endpoint> {
  switch (spec.kind) {
    case 'jsse-java7':
      return startJsseEndpoint(spec, ctx);
    case 'node-tls':
      return startNodeTlsEndpoint(spec, ctx);
  }
}

/** Stops what endpoints share across scenarios (the JSSE JVMs); call once a run is over. */
export function closeSharedEndpoints(): Promise<void> {
  return closeJsseFronts();
}
