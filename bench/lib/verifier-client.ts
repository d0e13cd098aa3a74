// A verifier client for latency measurements: one keep-alive connection over loopback, so a poll is
// one request/response on a warm socket and nothing else.
import http from 'node:http';

export class VerifierClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly base: string) {}

  /** The HTTP status and JSON `reason` of GET /v1/verify for `token`. */
  verify(token: string): Promise<{ status: number; reason?: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.base}/v1/verify`,
        { agent: this.agent, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => {
            let reason: string | undefined;
            try {
              reason = (JSON.parse(body) as { reason?: string }).reason;
            } catch {
              reason = undefined;
            }
            resolve({ status: res.statusCode ?? 0, ...(reason ? { reason } : {}) });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
