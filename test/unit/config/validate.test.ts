import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../../src/core/errors.js';
import { validateOptions, validateRoutes } from '../../../src/config/validate.js';

const target = { host: '127.0.0.1', port: 9000 };

function route(match: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { match, action: { type: 'forward', target }, ...extra };
}

function issuesOf(input: unknown): ConfigIssue[] {
  try {
    validateOptions(input, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('SL_ERR_CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    return [...e.issues];
  }
  throw new Error('expected the options to be rejected');
}

function issueAt(input: unknown, path: string): ConfigIssue {
  const all = issuesOf(input);
  const found = all.find((i) => i.path === path);
  if (!found) throw new Error(`no issue at ${path}; got ${JSON.stringify(all)}`);
  return found;
}

describe('unknown keys', () => {
  it('a misspelt match key names the path and suggests the right key', () => {
    const issue = issueAt(
      { routes: [{ match: { ports: 443, domain: 'a.example' }, action: { type: 'forward', target } }] },
      'routes[0].match.domain',
    );
    expect(issue.message).toBe('unknown key "domain"');
    expect(issue.hint).toBe('did you mean "domains"?');
  });

  it('a misspelt top-level option suggests the right option', () => {
    const issue = issueAt({ routes: [], inactivityTimout: 1000 }, 'inactivityTimout');
    expect(issue.hint).toBe('did you mean "inactivityTimeout"?');
  });

  it('the error message names the source, the path and the hint', () => {
    expect(() => validateOptions({ routes: [], inactivityTimout: 1 }, 'conf/sightline.yaml')).toThrow(
      /conf\/sightline\.yaml: inactivityTimout: unknown key "inactivityTimout" \(did you mean "inactivityTimeout"\?\)/,
    );
  });

  it('a key far from every valid key lists the valid keys instead', () => {
    const issue = issueAt({ routes: [], admin: { zzzzzzzz: 1 } }, 'admin.zzzzzzzz');
    expect(issue.hint).toBe(
      'valid keys: host, port, token, tokenFile, enabled, allowUnauthenticatedRemote, allowedHosts',
    );
  });

  it('suggests keys of the union member the object resembles', () => {
    const tls = { mode: 'terminate', certificate: { keyfile: 'k.pem', certFile: 'c.pem' } };
    const issue = issueAt(
      { routes: [route({ ports: 443 }, { action: { type: 'forward', target, tls } })] },
      'routes[0].action.tls.certificate.keyfile',
    );
    expect(issue.hint).toBe('did you mean "keyFile"?');
  });

  it('reports every unknown key, in nested sections too', () => {
    const paths = issuesOf({
      routes: [],
      telemetry: { logging: { levle: 'debug' } },
      lifecycle: { stuckTreshold: 5 },
    }).map((i) => i.path);
    expect(paths).toEqual(['lifecycle.stuckTreshold', 'telemetry.logging.levle']);
  });
});

describe('wrong types and values', () => {
  it('names the path of a wrong type', () => {
    expect(issueAt({ routes: [], inactivityTimeout: '4h' }, 'inactivityTimeout').message).toBe(
      'expected a number, got "4h"',
    );
    expect(issueAt({ routes: [], keepAlive: 'yes' }, 'keepAlive').message).toBe('expected true or false, got "yes"');
    expect(issueAt({ routes: 'none' }, 'routes').message).toBe('expected an array, got "none"');
  });

  it('rejects a non-object, and a missing routes list', () => {
    expect(issueAt(null, '').message).toBe('expected an object, got null');
    expect(issueAt({}, 'routes').message).toBe('required: expected an array');
  });

  it('rejects negative and fractional durations', () => {
    expect(issueAt({ routes: [], socketTimeout: -1 }, 'socketTimeout').message).toMatch(/negative/);
    expect(issueAt({ routes: [], socketTimeout: 1.5 }, 'socketTimeout').message).toMatch(/whole milliseconds/);
  });

  it('lists the allowed values of an enum', () => {
    expect(issueAt({ routes: [], keepAliveTreatment: 'forever' }, 'keepAliveTreatment').message).toBe(
      'expected one of "standard", "extended", "immortal"; got "forever"',
    );
  });

  it('explains a union mismatch in words, not as a dump of every member', () => {
    expect(issueAt({ routes: [], sendProxyProtocol: 'v3' }, 'sendProxyProtocol').message).toBe(
      "expected true, false, 'v1' or 'v2'; got \"v3\"",
    );
    expect(
      issueAt(
        { routes: [route({ ports: 1 }, { action: { type: 'forward', target: { host: 5, port: 1 } } })] },
        'routes[0].action.target.host',
      ).message,
    ).toBe('expected a host name, an array of host names or a function; got 5');
  });

  it('reports every issue at once', () => {
    const paths = issuesOf({ routes: [route({ ports: 0 })], noDelay: 1, maxConnectionsPerIP: -5 }).map((i) => i.path);
    expect(paths).toEqual(['routes[0].match.ports', 'noDelay', 'maxConnectionsPerIP']);
  });

  it('requires target on forward routes and socketHandler on socket-handler routes', () => {
    expect(
      issueAt({ routes: [{ match: { ports: 80 }, action: { type: 'forward' } }] }, 'routes[0].action.target').message,
    ).toMatch(/'forward' action needs target/);
    expect(
      issueAt(
        { routes: [{ match: { ports: 80 }, action: { type: 'socket-handler' } }] },
        'routes[0].action.socketHandler',
      ).message,
    ).toMatch(/needs socketHandler/);
  });

  it('accepts functions for host, port and socketHandler (library API)', () => {
    const o = validateOptions({
      routes: [
        { match: { ports: 80 }, action: { type: 'forward', target: { host: () => 'a', port: () => 81 } } },
        { match: { ports: 81 }, action: { type: 'socket-handler', socketHandler: () => undefined } },
        { match: { ports: 82 }, action: { type: 'forward', target: { host: ['a', 'b'], port: 'preserve' } } },
      ],
    });
    expect(typeof o.routes[0]?.action.target?.host).toBe('function');
    expect(typeof o.routes[1]?.action.socketHandler).toBe('function');
    expect(o.routes[2]?.action.target).toEqual({ host: ['a', 'b'], port: 'preserve' });
  });

  it('rejects minVersion above maxVersion', () => {
    const tls = { mode: 'terminate', certificate: 'auto', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' };
    expect(
      issueAt(
        { routes: [route({ ports: 443 }, { action: { type: 'forward', target, tls } })] },
        'routes[0].action.tls.maxVersion',
      ).message,
    ).toMatch(/lower than minVersion/);
  });
});

describe('match.ports', () => {
  const ports = (p: unknown): unknown => validateOptions({ routes: [route({ ports: p })] }).routes[0]?.match.ports;
  const portIssue = (p: unknown): ConfigIssue[] => issuesOf({ routes: [route({ ports: p })] });

  it('accepts a number, an array, a range and a mixed array', () => {
    expect(ports(443)).toBe(443);
    expect(ports([80, 443])).toEqual([80, 443]);
    expect(ports({ from: 8000, to: 8010 })).toEqual({ from: 8000, to: 8010 });
    expect(ports([80, { from: 8000, to: 8010 }, 9000])).toEqual([80, { from: 8000, to: 8010 }, 9000]);
    expect(ports({ from: 1, to: 65535 })).toEqual({ from: 1, to: 65535 });
    expect(ports({ from: 8080, to: 8080 })).toEqual({ from: 8080, to: 8080 });
  });

  it('rejects a reversed range', () => {
    expect(portIssue({ from: 9000, to: 8000 })).toEqual([
      { path: 'routes[0].match.ports', message: 'port range is reversed: from 9000 is greater than to 8000' },
    ]);
    expect(portIssue([80, { from: 9, to: 3 }])[0]?.path).toBe('routes[0].match.ports[1]');
  });

  it('rejects ports outside 1-65535', () => {
    expect(portIssue(70000)).toEqual([
      { path: 'routes[0].match.ports', message: 'a port must be between 1 and 65535' },
    ]);
    expect(portIssue(0)[0]?.message).toBe('a port must be between 1 and 65535');
    expect(portIssue([80, 70000])[0]?.path).toBe('routes[0].match.ports[1]');
    expect(portIssue({ from: 1, to: 70000 })[0]?.path).toBe('routes[0].match.ports.to');
    expect(portIssue(80.5)[0]?.message).toBe('a port must be a whole number');
  });

  it('rejects other shapes with one readable message', () => {
    expect(portIssue('443')).toEqual([
      { path: 'routes[0].match.ports', message: 'expected a port number, an array of ports or {from, to}; got "443"' },
    ]);
    expect(portIssue([80, 'x'])).toEqual([
      { path: 'routes[0].match.ports[1]', message: 'expected a port number or {from, to}; got "x"' },
    ]);
    expect(portIssue({ from: 80 })).toEqual([
      { path: 'routes[0].match.ports.to', message: 'required: expected a number' },
    ]);
    expect(portIssue([])[0]?.message).toBe('list at least one port');
  });

  it('is required', () => {
    expect(issuesOf({ routes: [{ match: {}, action: { type: 'forward', target } }] })).toEqual([
      { path: 'routes[0].match.ports', message: 'required: expected a port number, an array of ports or {from, to}' },
    ]);
  });
});

describe('IP lists', () => {
  const good = [
    '10.0.0.1',
    '10.0.0.0/8',
    '::1',
    '::1/128',
    '2001:db8::/32',
    '192.168.*',
    '10.*.*.1',
    '*',
    '::ffff:127.0.0.1',
  ];
  it.each(good)('accepts %s', (ip) => {
    expect(() => validateOptions({ routes: [route({ ports: 80, clientIp: [ip] })], proxyIPs: [ip] })).not.toThrow();
  });

  const bad = [
    '10.0.0.0/33',
    '::1/129',
    '10.0.0.0/',
    '300.1.1.1',
    'localhost',
    '10.0.0.0/8/8',
    '192.168.**',
    '1.2.3.4.*',
    '',
  ];
  it.each(bad)('rejects %j with a clear message', (ip) => {
    const issue = issueAt(
      { routes: [], defaults: { security: { ipBlockList: ['1.2.3.4', ip] } } },
      'defaults.security.ipBlockList[1]',
    );
    expect(issue.message).toBe(
      `${JSON.stringify(ip)} is not an IP address, a CIDR (10.0.0.0/8, ::1/128) or a * pattern (192.168.*)`,
    );
  });

  it('checks route security lists and clientIp', () => {
    expect(
      issueAt(
        { routes: [route({ ports: 80 }, { security: { ipAllowList: ['10.0.0.0/99'] } })] },
        'routes[0].security.ipAllowList[0]',
      ),
    ).toBeDefined();
    expect(
      issueAt({ routes: [route({ ports: 80, clientIp: ['nope'] })] }, 'routes[0].match.clientIp[0]'),
    ).toBeDefined();
  });
});

describe('result', () => {
  it('is deep-frozen, functions included but not recursed into', () => {
    const host = (): string => 'a';
    const o = validateOptions({
      routes: [
        route({ ports: [80, { from: 90, to: 91 }] }),
        { match: { ports: 81 }, action: { type: 'forward', target: { host, port: 1 } } },
      ],
    });
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.routes)).toBe(true);
    expect(Object.isFrozen(o.routes[0]?.match.ports)).toBe(true);
    expect(Object.isFrozen((o.routes[0]?.match.ports as unknown[])[1])).toBe(true);
    expect(Object.isFrozen(o.defaults.security)).toBe(true);
    expect(Object.isFrozen(o.telemetry.logging)).toBe(true);
    expect(o.routes[1]?.action.target?.host).toBe(host);
    expect(() => {
      (o as { inactivityTimeout: number }).inactivityTimeout = 1;
    }).toThrow(TypeError);
  });

  it('names unnamed routes route-<index>', () => {
    const o = validateOptions({
      routes: [route({ ports: 80 }), route({ ports: 81 }, { name: 'api' }), route({ ports: 82 })],
    });
    expect(o.routes.map((r) => r.name)).toEqual(['route-0', 'api', 'route-2']);
  });

  it('rejects duplicate route names (they label metrics)', () => {
    const issue = issueAt(
      { routes: [route({ ports: 80 }, { name: 'a' }), route({ ports: 81 }, { name: 'a' })] },
      'routes[1].name',
    );
    expect(issue.message).toMatch(/duplicate route name "a" \(also routes\[0\]\)/);
  });

  it('accepts an empty route list', () => {
    expect(validateOptions({ routes: [] }).routes).toEqual([]);
  });

  it('keeps explicit values over defaults', () => {
    const o = validateOptions({
      routes: [],
      admin: { port: 0, token: 's3cret' },
      defaults: { target: { host: 'fallback', port: 'preserve' }, security: { maxConnections: 5 } },
      telemetry: { logging: { level: 'debug', destination: 'stderr' } },
      lifecycle: { halfZombieGrace: 50 },
      sendProxyProtocol: 'v2',
    });
    expect(o.admin).toEqual({
      host: '127.0.0.1',
      port: 0,
      token: 's3cret',
      enabled: true,
      allowUnauthenticatedRemote: false,
      allowedHosts: [],
    });
    expect(o.defaults).toEqual({ target: { host: 'fallback', port: 'preserve' }, security: { maxConnections: 5 } });
    expect(o.telemetry.logging).toEqual({ level: 'debug', destination: 'stderr' });
    expect(o.lifecycle.halfZombieGrace).toBe(50);
    expect(o.lifecycle.halfZombieGraceTls).toBe(300_000);
    expect(o.sendProxyProtocol).toBe('v2');
  });
});

describe('validateRoutes', () => {
  it('returns named, defaulted, frozen routes', () => {
    const routes = validateRoutes([route({ ports: 80 }, { action: { type: 'forward', target, websocket: {} } })]);
    expect(routes[0]?.name).toBe('route-0');
    expect(routes[0]?.action.websocket).toEqual({
      enabled: true,
      pingInterval: 30_000,
      pingTimeout: 10_000,
      maxPayloadSize: 104_857_600,
    });
    expect(Object.isFrozen(routes)).toBe(true);
  });

  it('reports paths as in a whole options object, with hints', () => {
    try {
      validateRoutes([{ match: { ports: 80, domian: 'x' }, action: { type: 'forward', target } }]);
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).issues).toEqual([
        { path: 'routes[0].match.domian', message: 'unknown key "domian"', hint: 'did you mean "domains"?' },
      ]);
    }
  });
});
