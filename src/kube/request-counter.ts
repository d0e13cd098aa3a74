// Counts the operator's own requests to the API server, client side, by HTTP method — what the
// issuance benchmark reports as "API requests per domain" (SPEC §6). client-node 1.x authenticates
// every generated-client request through KubeConfig.applySecurityAuthentication and every watch
// through applyToFetchOptions, so wrapping those two counts everything this KubeConfig sends.
import type { KubeConfig } from '@kubernetes/client-node';

export type RequestCounter = (method: string) => void;

export function countRequests(kc: KubeConfig, count: RequestCounter): KubeConfig {
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    count(context.getHttpMethod().toString());
    return authenticate(context);
  };
  const fetchOptions = kc.applyToFetchOptions.bind(kc);
  kc.applyToFetchOptions = async (opts) => {
    count('WATCH');
    return fetchOptions(opts);
  };
  return kc;
}
