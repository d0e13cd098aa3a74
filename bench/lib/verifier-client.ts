// A verifier client for latency measurements: one keep-alive connection over loopback, so a poll is
// one request/response on a warm socket and nothing else.
import http from 'node:http';
import { call } from '../../test/integration/support/verifier.js';

export class VerifierClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly base: string) {}

  /** The HTTP status and JSON `reason` of GET /v1/verify for `token`. */
  async verify(token: string): Promise<{ status: number; reason?: string }> {
    const { status, reason } = await call(this.base, '/v1/verify', {
      headers: { authorization: `Bearer ${token}` },
      agent: this.agent,
    });
    return { status, ...(reason ? { reason } : {}) };
  }

  close(): void {
    this.agent.destroy();
  }
}
