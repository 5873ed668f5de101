/**
 * Everything a TLS route needs from disk is read and checked when the configuration is loaded
 * (issue 11 §2): a missing or wrong file is a ConfigError naming the key and the file, at
 * construction and at updateRoutes; once running, the data path reads no file (the files can be
 * deleted and handshakes and re-encrypting connects still work).
 */
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { SightlineProxy } from '../../src/server.js';
import { certFor, closed, freePort, privateCa, readBytes, HOST } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sightline-tls-material-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function tlsClient(port: number, servername: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: HOST, port, servername, rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
}

const issuesOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('TLS material at load time', () => {
  it('a missing backend caFile is a ConfigError naming the key and file at construction, not a crash at the first request', () => {
    const missing = path.join(dir, 'no-such-ca.pem');
    const err = issuesOf(
      () =>
        new SightlineProxy({
          routes: [
            {
              name: 'r',
              match: { ports: 18443 },
              action: {
                type: 'forward',
                target: { host: HOST, port: 9 },
                protocol: 'tcp',
                tls: { mode: 'terminate-and-reencrypt', certificate: { key: 'x', cert: 'y' }, caFile: missing },
              },
            },
          ],
        }),
    );
    // The certificate is checked first: fix it and the CA is named.
    expect(err.issues[0]?.path).toBe('routes[0].action.tls.certificate.cert');
  });

  it('names caFile once the certificate is good; ciphers and key/cert mismatch likewise', async () => {
    const front = await certFor('front.test');
    const other = await certFor('other.test');
    const missing = path.join(dir, 'no-such-ca.pem');
    const route = (tlsOpts: Record<string, unknown>) => ({
      routes: [
        {
          name: 'r',
          match: { ports: 18443 },
          action: {
            type: 'forward' as const,
            target: { host: HOST, port: 9 },
            protocol: 'tcp' as const,
            tls: { mode: 'terminate-and-reencrypt' as const, certificate: front, ...tlsOpts },
          },
        },
      ],
    });
    const ca = issuesOf(() => new SightlineProxy(route({ caFile: missing })));
    expect(ca.issues).toEqual([
      { path: 'routes[0].action.tls.caFile', message: `cannot read ${missing} (no such file)` },
    ]);
    const ciphers = issuesOf(() => new SightlineProxy(route({ ciphers: 'NOT-A-CIPHER' })));
    expect(ciphers.issues[0]?.path).toBe('routes[0].action.tls.ciphers');
    const mismatch = issuesOf(() => new SightlineProxy(route({ certificate: { key: other.key, cert: front.cert } })));
    expect(mismatch.issues[0]?.path).toBe('routes[0].action.tls.certificate.key');
    expect(mismatch.issues[0]?.message).toMatch(/is not the private key of the certificate/);
  });

  it('once running, no file is read: certificate, key and CA files deleted, handshakes and re-encrypted connects still work', async () => {
    const { ca, leaf } = await privateCa('backend.test');
    const front = await certFor('front.test');
    const files = {
      certFile: path.join(dir, 'front.pem'),
      keyFile: path.join(dir, 'front.key'),
      caFile: path.join(dir, 'backend-ca.pem'),
    };
    await writeFile(files.certFile, front.cert);
    await writeFile(files.keyFile, front.key);
    await writeFile(files.caFile, ca.cert);
    const backend = tls.createServer({ key: leaf.key, cert: leaf.cert }, (s) => {
      s.on('error', () => {});
      s.write('B|');
      s.pipe(s);
    });
    await new Promise<void>((r) => backend.listen(0, HOST, r));
    const bport = (backend.address() as AddressInfo).port;
    const port = await freePort();
    const p = await startProxy({
      routes: [
        {
          name: 'reenc',
          match: { ports: port },
          action: {
            type: 'forward',
            protocol: 'tcp',
            target: { host: HOST, port: bport },
            tls: {
              mode: 'terminate-and-reencrypt',
              certificate: { certFile: files.certFile, keyFile: files.keyFile },
              caFile: files.caFile,
              servername: 'backend.test',
            },
          },
        },
      ],
    });
    try {
      for (const f of Object.values(files)) await unlink(f);
      for (let i = 0; i < 2; i++) {
        const s = await tlsClient(port, 'front.test');
        expect(s.getPeerCertificate().subject.CN).toBe('front.test');
        expect((await readBytes(s, 2)).toString()).toBe('B|');
        s.write(`ping${i}`);
        expect((await readBytes(s, 5)).toString()).toBe(`ping${i}`);
        s.end();
        await closed(s);
        expect((await p.events.next((e) => e.conn.routeName === 'reenc')).reason).toBe('client_closed');
      }
    } finally {
      await p.stop();
      await new Promise<void>((r) => backend.close(() => r()));
    }
  });

  it('updateRoutes with an unreadable certificate rejects naming the key; the running route keeps serving', async () => {
    const front = await certFor('front.test');
    const port = await freePort();
    const backend = await import('../helpers/net.js').then((m) => m.taggedServer('T'));
    const route = (certificate: unknown) => [
      {
        name: 'term',
        match: { ports: port },
        action: {
          type: 'forward' as const,
          protocol: 'tcp' as const,
          target: { host: HOST, port: backend.port },
          tls: { mode: 'terminate' as const, certificate: certificate as { key: string; cert: string } },
        },
      },
    ];
    const p = await startProxy({ routes: route(front) });
    try {
      const missing = path.join(dir, 'gone.pem');
      const err = await p.proxy.updateRoutes(route({ certFile: missing, keyFile: missing })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues[0]).toEqual({
        path: 'routes[0].action.tls.certificate.certFile',
        message: `cannot read ${missing} (no such file)`,
      });
      const s = await tlsClient(port, 'front.test');
      expect((await readBytes(s, 1)).toString()).toBe('T');
      s.destroy();
    } finally {
      await p.stop();
      await backend.close();
    }
  });
});
