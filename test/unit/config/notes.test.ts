import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configNotes } from '../../../src/config/notes.js';
import { validateOptions } from '../../../src/config/validate.js';

const target = { host: '127.0.0.1', port: 9000 };
const tlsDir = fileURLToPath(new URL('../../config-corpus/tls/', import.meta.url));
const cert = { key: readFileSync(`${tlsDir}key.pem`, 'utf8'), cert: readFileSync(`${tlsDir}cert.pem`, 'utf8') };

describe('configNotes', () => {
  it('says that websocket options on passthrough and tcp routes have no effect, and nothing for HTTP routes', () => {
    const o = validateOptions({
      routes: [
        {
          name: 'pt',
          match: { ports: 443, domains: 'a.test' },
          action: { type: 'forward', target, tls: { mode: 'passthrough' }, websocket: { pingInterval: 5000 } },
        },
        { name: 'tcp', match: { ports: 8000 }, action: { type: 'forward', target, websocket: { pingInterval: 5000 } } },
        {
          name: 'term',
          match: { ports: 443, domains: 'b.test' },
          action: {
            type: 'forward',
            target,
            tls: { mode: 'terminate', certificate: cert },
            websocket: { pingInterval: 5000 },
          },
        },
        {
          name: 'plain-http',
          match: { ports: 80 },
          action: { type: 'forward', target, protocol: 'http', websocket: { pingInterval: 5000 } },
        },
      ],
    });
    const notes = configNotes(o);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(
      /^routes\[0\] "pt": action\.websocket has no effect: a passthrough route cannot read WebSocket frames/,
    );
    expect(notes[1]).toMatch(/^routes\[1\] "tcp": .*byte tunnel/);
  });

  it('warns about a certificate past its end date (a note, not an error) and one about to end', () => {
    const expired = { keyFile: `${tlsDir}expired-key.pem`, certFile: `${tlsDir}expired-cert.pem` };
    const o = validateOptions({
      routes: [
        {
          name: 'old',
          match: { ports: 443 },
          action: { type: 'forward', target, tls: { mode: 'terminate', certificate: expired } },
        },
      ],
    });
    const notes = configNotes(o);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^warning: routes\[0\]\.action\.tls\.certificate "old": .*expired on 2020-02-01/);
    const fresh = validateOptions({
      routes: [
        {
          name: 'new',
          match: { ports: 443 },
          action: { type: 'forward', target, tls: { mode: 'terminate', certificate: cert } },
        },
      ],
    });
    expect(configNotes(fresh)).toEqual([]);
    expect(configNotes(fresh, Date.parse('2124-12-25'))[0]).toMatch(/expires on 2125-01-01/);
  });
});
