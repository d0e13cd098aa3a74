import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, KubeClient, type WatchEvent } from './client.js';
import { connectionFrom } from './connection.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<KubeClient & { requests: string[] }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const requests: string[] = [];
  const client = new KubeClient(
    connectionFrom({ server: `http://127.0.0.1:${port}`, token: { data: Buffer.from('t0k') } }, 'test'),
    {
      onRequest: (m) => requests.push(m),
    },
  );
  return Object.assign(client, { requests });
}

describe('KubeClient.request', () => {
  it('sends JSON with the credentials and query, and parses the answer', async () => {
    let seen: { method?: string; url?: string; auth?: string; type?: string; body?: string } = {};
    const client = await serve((req, res, body) => {
      seen = {
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        type: req.headers['content-type'],
        body,
      };
      res.setHeader('content-type', 'application/json');
      res.end('{"kind":"Secret","metadata":{"name":"s"}}');
    });
    const out = await client.request<{ kind: string }>('PUT', '/api/v1/namespaces/a/secrets/s', {
      query: { limit: 5, continue: undefined, labelSelector: 'a=b' },
      body: { kind: 'Secret' },
    });
    expect(out.kind).toBe('Secret');
    expect(seen).toEqual({
      method: 'PUT',
      url: '/api/v1/namespaces/a/secrets/s?limit=5&labelSelector=a%3Db',
      auth: 'Bearer t0k',
      type: 'application/json',
      body: '{"kind":"Secret"}',
    });
    expect(client.requests).toEqual(['PUT']);
  });

  it('throws ApiError with the status; the body is kept aside, never in the message', async () => {
    const status = {
      kind: 'Status',
      reason: 'Conflict',
      message: 'the object has been modified; data sct_secret',
    };
    const client = await serve((_req, res) => {
      res.statusCode = 409;
      res.end(JSON.stringify(status));
    });
    const err = await client.request('POST', '/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(409);
    expect((err as ApiError).message).toBe('HTTP 409');
    expect(JSON.parse((err as ApiError).body)).toEqual(status);
  });

  it('rejects with the socket error when nothing answers', async () => {
    const client = new KubeClient(connectionFrom({ server: 'http://127.0.0.1:1' }, 'test'));
    await expect(client.request('GET', '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('KubeClient.watch', () => {
  it('hands over each event in order and ends with null when the server ends the stream', async () => {
    const client = await serve((req, res) => {
      expect(req.url).toBe('/w?resourceVersion=7&watch=true');
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
      res.write('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}\n{"type":"DELE');
      setTimeout(() => res.end('TED","object":{"metadata":{"name":"a"}}}\n'), 20);
    });
    const events: WatchEvent[] = [];
    const done = await new Promise<unknown>((resolve) => {
      void client.watch('/w', { resourceVersion: '7' }, (e) => events.push(e), resolve);
    });
    expect(done).toBeNull();
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK', 'DELETED']);
    expect(client.requests).toEqual(['WATCH']);
  });

  it('ends with an ApiError when the watch is refused', async () => {
    const client = await serve((_req, res) => {
      res.statusCode = 410;
      res.end('{"kind":"Status","code":410,"reason":"Expired"}');
    });
    const done = await new Promise<unknown>(
      (resolve) => void client.watch('/w', {}, () => undefined, resolve),
    );
    expect(done).toBeInstanceOf(ApiError);
    expect((done as ApiError).code).toBe(410);
  });

  it('ends with an error, not null, when the connection drops mid-stream', async () => {
    const client = await serve((req, res) => {
      res.write('{"type":"ADDED","object":{}}\n');
      setTimeout(() => req.socket.destroy(), 20);
    });
    const done = await new Promise<unknown>(
      (resolve) => void client.watch('/w', {}, () => undefined, resolve),
    );
    expect(done).toBeInstanceOf(Error);
  });

  it('says nothing after abort()', async () => {
    const client = await serve((_req, res) => res.write('{"type":"ADDED","object":{}}\n'));
    let done = false;
    const events: WatchEvent[] = [];
    const handle = await client.watch(
      '/w',
      {},
      (e) => events.push(e),
      () => (done = true),
    );
    await new Promise((r) => setTimeout(r, 50));
    handle.abort();
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toHaveLength(1);
    expect(done).toBe(false);
  });
});
