import { describe, expect, it } from 'vitest';
import { configNotes } from '../../../src/config/notes.js';
import { validateOptions } from '../../../src/config/validate.js';

const target = { host: '127.0.0.1', port: 9000 };
const cert = { key: 'k', cert: 'c' };

describe('configNotes', () => {
  it('says that websocket options on passthrough and tcp routes have no effect, and nothing for HTTP routes', () => {
    const o = validateOptions({
      routes: [
        { name: 'pt', match: { ports: 443, domains: 'a.test' }, action: { type: 'forward', target, tls: { mode: 'passthrough' }, websocket: { pingInterval: 5000 } } },
        { name: 'tcp', match: { ports: 8000 }, action: { type: 'forward', target, websocket: { pingInterval: 5000 } } },
        { name: 'term', match: { ports: 443, domains: 'b.test' }, action: { type: 'forward', target, tls: { mode: 'terminate', certificate: cert }, websocket: { pingInterval: 5000 } } },
        { name: 'plain-http', match: { ports: 80 }, action: { type: 'forward', target, protocol: 'http', websocket: { pingInterval: 5000 } } },
      ],
    });
    const notes = configNotes(o);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^routes\[0\] "pt": action\.websocket has no effect: a passthrough route cannot read WebSocket frames/);
    expect(notes[1]).toMatch(/^routes\[1\] "tcp": .*byte tunnel/);
  });
});
