import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SightlineError } from '../../../src/core/errors.js';
import { loadConfigFile } from '../../../src/config/load.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const pem = (name: string): string => readFileSync(join(repoRoot, 'test/config-corpus/tls', name), 'utf8');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(resolve(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<SightlineError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SightlineError);
    return err as SightlineError;
  }
  throw new Error('expected a rejection');
}

const sameContent = {
  keepAliveTreatment: 'extended',
  keepAliveInactivityMultiplier: 10,
  routes: [
    {
      name: 'ws',
      match: { ports: [8443, { from: 9000, to: 9002 }], domains: ['ws.example.com'] },
      action: { type: 'forward', target: { host: ['a', 'b'], port: 443 }, tls: { mode: 'passthrough' } },
      security: { ipAllowList: ['10.0.0.0/8'] },
    },
  ],
  telemetry: { logging: { level: 'debug' } },
};

const sameContentYaml = `
keepAliveTreatment: extended
keepAliveInactivityMultiplier: 10
routes:
  - name: ws
    match:
      ports: [8443, { from: 9000, to: 9002 }]
      domains: [ws.example.com]
    action:
      type: forward
      target: { host: [a, b], port: 443 }
      tls: { mode: passthrough }
    security:
      ipAllowList: [10.0.0.0/8]
telemetry:
  logging:
    level: debug
`;

describe('loadConfigFile', () => {
  it('loads YAML and JSON with the same content to the same options', async () => {
    const fromYaml = await loadConfigFile(await write('same.yaml', sameContentYaml));
    const fromJson = await loadConfigFile(await write('same.json', JSON.stringify(sameContent, null, 2)));
    expect(fromYaml).toEqual(fromJson);
    expect(fromYaml.routes[0]?.match.ports).toEqual([8443, { from: 9000, to: 9002 }]);
    expect(fromYaml.maxConnectionsPerIP).toBe(100);
    expect(Object.isFrozen(fromYaml.routes[0])).toBe(true);
  });

  it('reads JSON written in a .yml file too (JSON is YAML)', async () => {
    const o = await loadConfigFile(await write('json-in.yml', JSON.stringify(sameContent)));
    expect(o.routes[0]?.name).toBe('ws');
  });

  it('reports a YAML syntax error with the file, line and column', async () => {
    const path = await write('broken.yaml', 'routes:\n  - name: a\n    match: { ports: 80\n    action: x\n');
    const err = await rejection(loadConfigFile(path));
    expect(err.code).toBe('SL_ERR_CONFIG_READ');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/YAML syntax error at line \d+, column \d+: /);
  });

  it('reports the line of a bad indentation, with the offending line quoted, on one line', async () => {
    const path = await write('indent.yaml', 'routes: []\ninactivityTimeout: 1000\n  socketTimeout: 5\n');
    const err = await rejection(loadConfigFile(path));
    expect(err.message).toContain(`${path}: YAML syntax error at line 2, column 20: `);
    expect(err.message).toContain('(near "inactivityTimeout: 1000")');
    expect(err.message).not.toContain('\n');
  });

  it('finds a duplicate key in a nested map, and a file of 5 000 keys parses in linear time', async () => {
    const nested = await rejection(
      loadConfigFile(
        await write('dup-nested.yaml', 'routes: []\nhttp:\n  upstream:\n    maxSockets: 1\n    maxSockets: 2\n'),
      ),
    );
    expect(nested.message).toMatch(
      /dup-nested\.yaml: YAML syntax error at line 5, column 5: Map keys must be unique \(near "maxSockets: 2"\)/,
    );
    const many = Array.from({ length: 5000 }, (_, i) => `k${i}: 1\n`).join('');
    const t0 = performance.now();
    const err = (await rejection(loadConfigFile(await write('many.yaml', `routes: []\n${many}`)))) as ConfigError;
    expect(performance.now() - t0).toBeLessThan(10_000);
    // The first 20 problems explained, the rest counted: a bounded answer to an unbounded file.
    expect(err.issues).toHaveLength(21);
    expect(err.issues[20]).toEqual({ path: '', message: 'and 4980 more problems (fix these first)' });
  });

  it('an apostrophe in plain text does not hide brackets from the nesting scan; quoted brackets do not count', async () => {
    const deep = await rejection(
      loadConfigFile(await write('apos.yaml', `routes: []\nname: it's\nx: ${'['.repeat(40)}${']'.repeat(40)}\n`)),
    );
    expect(deep.message).toContain('apos.yaml: nesting deeper than 32 levels at line 3');
    const quoted = await rejection(
      loadConfigFile(await write('quoted.yaml', `routes: []\nx: "${'['.repeat(40)}"\ny: '${'{'.repeat(40)}'\n`)),
    );
    expect(quoted).toBeInstanceOf(ConfigError);
    expect((quoted as ConfigError).issues.map((i) => i.path)).toEqual(['x', 'y']);
  });

  it('reports duplicate keys in YAML', async () => {
    const err = await rejection(loadConfigFile(await write('dup.yaml', 'routes: []\nnoDelay: true\nnoDelay: false\n')));
    expect(err.message).toMatch(/dup\.yaml: YAML syntax error at line 3, column 1: .*unique/i);
  });

  it('reports a JSON syntax error with the file, line and column', async () => {
    const path = await write('broken.json', '{\n  "routes": [],\n  "noDelay": true,\n}\n');
    const err = await rejection(loadConfigFile(path));
    expect(err.code).toBe('SL_ERR_CONFIG_READ');
    expect(err.message).toContain(`${path}: JSON syntax error at line 4, column 1:`);
  });

  it('reports a missing file and an empty file', async () => {
    const missing = join(dir, 'nope.yaml');
    const err = await rejection(loadConfigFile(missing));
    expect(err.code).toBe('SL_ERR_CONFIG_READ');
    expect(err.message).toContain(`${missing}: cannot read the file (no such file)`);
    const empty = await rejection(loadConfigFile(await write('empty.yaml', '\n# nothing\n')));
    expect(empty.message).toMatch(/empty\.yaml: /);
  });

  it('reports schema problems as a ConfigError naming the file', async () => {
    const path = await write('bad.yaml', 'routes: []\ninactivityTimout: 5\n');
    const err = await rejection(loadConfigFile(path));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('SL_ERR_CONFIG_INVALID');
    expect(err.message).toContain(`${path}: inactivityTimout: unknown key`);
    expect((err as ConfigError).issues[0]?.hint).toBe('did you mean "inactivityTimeout"?');
  });

  it('resolves relative certificate paths against the config file directory', async () => {
    await write('conf/certs/key.pem', pem('key.pem'));
    await write('conf/certs/cert.pem', pem('cert.pem'));
    await write('backend-ca.pem', pem('cert.pem'));
    const absoluteCa = join(repoRoot, 'test/config-corpus/tls/cert.pem');
    const path = await write(
      'conf/tls.yaml',
      [
        'routes:',
        '  - match: { ports: 443 }',
        '    action:',
        '      type: forward',
        '      target: { host: backend, port: 8443 }',
        '      tls:',
        '        mode: terminate-and-reencrypt',
        `        certificate: { keyFile: certs/key.pem, certFile: ./certs/cert.pem, caFile: ${absoluteCa} }`,
        '        caFile: ../backend-ca.pem',
        '',
      ].join('\n'),
    );
    const tls = (await loadConfigFile(path)).routes[0]?.action.tls;
    expect(tls?.certificate).toEqual({
      keyFile: join(dir, 'conf/certs/key.pem'),
      certFile: join(dir, 'conf/certs/cert.pem'),
      caFile: absoluteCa,
    });
    expect(tls?.caFile).toBe(join(dir, 'backend-ca.pem'));
  });

  it('resolves against the directory of a relative config path too', async () => {
    await write('rel/k.pem', pem('key.pem'));
    await write('rel/c.pem', pem('cert.pem'));
    await write(
      'rel/tls.json',
      JSON.stringify({
        routes: [
          {
            match: { ports: 443 },
            action: {
              type: 'forward',
              target: { host: 'b', port: 1 },
              tls: { mode: 'terminate', certificate: { keyFile: 'k.pem', certFile: 'c.pem' } },
            },
          },
        ],
      }),
    );
    const relativePath = join(dir, 'rel/tls.json').replace(`${process.cwd()}/`, '');
    const cert = (await loadConfigFile(relativePath)).routes[0]?.action.tls?.certificate;
    expect(cert).toEqual({ keyFile: join(dir, 'rel/k.pem'), certFile: join(dir, 'rel/c.pem') });
  });
});

describe('bundled examples', () => {
  it('examples/quickstart.yaml: plain TCP 8443 -> 127.0.0.1:9000', async () => {
    const o = await loadConfigFile(join(repoRoot, 'examples/quickstart.yaml'));
    expect(o.routes).toHaveLength(1);
    const r = o.routes[0];
    expect(r?.name).toBe('demo');
    expect(r?.match.ports).toBe(8443);
    expect(r?.action.target).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(r?.action.tls).toBeUndefined();
  });

  it('examples/sni-passthrough.yaml: the seed example 1 on 8443 -> localhost:9443', async () => {
    const o = await loadConfigFile(join(repoRoot, 'examples/sni-passthrough.yaml'));
    expect(o.keepAliveTreatment).toBe('extended');
    expect(o.keepAliveInactivityMultiplier).toBe(10);
    expect(o.inactivityTimeout).toBe(14_400_000);
    const r = o.routes[0];
    expect(r?.name).toBe('websocket-passthrough');
    expect(r?.match).toEqual({ ports: 8443, domains: ['ws.example.com', 'wss.example.com'] });
    expect(r?.action.target).toEqual({ host: 'localhost', port: 9443 });
    expect(r?.action.tls?.mode).toBe('passthrough');
  });
});
