// The published-port grammar: what parses (defaults 127.0.0.1 and tcp, IPv6 in brackets), what
// is refused with E_INVALID_PORT (and why), clashes within one create, and what `vm port rm` matches.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatPort,
  matchesKey,
  parsePortKey,
  parsePortSpec,
  parsePortSpecs,
  portsClash,
} from '../../app/contract/port-spec.js';
import { BangerError } from '../../app/base/errors.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, BangerError);
    return `${(err as BangerError).code}: ${(err as Error).message}`;
  }
  throw new Error('expected a failure');
}

test('HOSTPORT:GUESTPORT: 127.0.0.1 and tcp unless given', () => {
  assert.equal(parsePortSpec('8080:80'), { addr: '127.0.0.1', hostPort: 8080, guestPort: 80, proto: 'tcp' });
  assert.equal(parsePortSpec(' 0.0.0.0:5353:53/UDP '), {
    addr: '0.0.0.0',
    hostPort: 5353,
    guestPort: 53,
    proto: 'udp',
  });
  assert.equal(parsePortSpec('10.1.2.3:1:65535/tcp'), {
    addr: '10.1.2.3',
    hostPort: 1,
    guestPort: 65535,
    proto: 'tcp',
  });
  assert.equal(parsePortSpec('[::1]:8443:443'), { addr: '::1', hostPort: 8443, guestPort: 443, proto: 'tcp' });
  assert.equal(parsePortSpec('[::]:53:53/udp').addr, '::');
});

test('bad specs: E_INVALID_PORT with the reason', () => {
  const cases: [unknown, RegExp][] = [
    ['', /empty/],
    [undefined, /empty/],
    [8080, /empty/],
    ['8080', /HOSTPORT:GUESTPORT/],
    ['1:2:3:4', /HOSTPORT:GUESTPORT/],
    ['0:80', /host port 0 is out of 1-65535/],
    ['8080:65536', /guest port 65536 is out of/],
    ['8080:99999', /out of 1-65535/],
    ['-1:80', /not a number/],
    ['8080:80/sctp', /neither tcp nor udp/],
    ['8080:80/', /neither tcp nor udp/],
    ['localhost:8080:80', /not an IPv4/],
    ['256.0.0.1:8080:80', /not an IPv4/],
    ['::1:8080:80', /HOSTPORT:GUESTPORT|not an IPv4/],
    ['[::1:8080:80', /closing/],
    ['[nope]:8080:80', /bracketed IPv6/],
    ['8080:80:', /HOSTPORT:GUESTPORT|not an IPv4/],
    ['1e3:80', /not a number/],
  ];
  for (const [spec, why] of cases) {
    const got = code(() => parsePortSpec(spec));
    assert.match(got, /^E_INVALID_PORT: /, String(spec));
    assert.match(got, why, `${String(spec)}: ${got}`);
  }
});

test('a create that names one host socket twice is refused (E_PORT_TAKEN); tcp and udp may share a number', () => {
  assert.equal(parsePortSpecs(['8080:80', '8080:80/udp', '127.0.0.2:8080:81']).length, 3);
  assert.match(
    code(() => parsePortSpecs(['8080:80', '127.0.0.1:8080:81'])),
    /^E_PORT_TAKEN: .*8080/,
  );
  assert.match(
    code(() => parsePortSpecs(['0.0.0.0:8080:80', '127.0.0.1:8080:81'])),
    /^E_PORT_TAKEN/,
  );
  assert.match(
    code(() => parsePortSpecs(['8080:80', 'x'])),
    /^E_INVALID_PORT/,
  );
  assert.equal(parsePortSpecs(undefined), []);
});

test('clashes: same protocol and port, and the same address or a wildcard', () => {
  const p = (s: string) => parsePortSpec(s);
  assert.ok(portsClash(p('8080:80'), p('8080:81')));
  assert.ok(portsClash(p('[::]:8080:80'), p('10.0.0.1:8080:80')));
  assert.not.ok(portsClash(p('8080:80'), p('8080:80/udp')));
  assert.not.ok(portsClash(p('127.0.0.1:8080:80'), p('127.0.0.2:8080:80')));
  assert.not.ok(portsClash(p('8080:80'), p('8081:80')));
});

test('vm port rm keys: what is left out matches any', () => {
  const web = parsePortSpec('8080:80');
  const dns = parsePortSpec('0.0.0.0:8080:53/udp');
  assert.equal(parsePortKey('8080'), { addr: null, hostPort: 8080, proto: null });
  assert.equal(parsePortKey('0.0.0.0:8080/udp'), { addr: '0.0.0.0', hostPort: 8080, proto: 'udp' });
  assert.equal(parsePortKey('[::1]:8080').addr, '::1');
  assert.ok(matchesKey(web, parsePortKey('8080')) && matchesKey(dns, parsePortKey('8080')));
  assert.ok(matchesKey(web, parsePortKey('8080/tcp')));
  assert.not.ok(matchesKey(dns, parsePortKey('8080/tcp')));
  assert.not.ok(matchesKey(web, parsePortKey('0.0.0.0:8080')));
  assert.match(
    code(() => parsePortKey('8080:80')),
    /^E_INVALID_PORT/,
  );
  assert.match(
    code(() => parsePortKey('x')),
    /^E_INVALID_PORT/,
  );
});

test('formatPort is the canonical text, and parses back to the same spec', () => {
  for (const s of ['127.0.0.1:8080:80/tcp', '0.0.0.0:5353:53/udp', '[::1]:8443:443/tcp']) {
    assert.is(formatPort(parsePortSpec(s)), s);
    assert.equal(parsePortSpec(formatPort(parsePortSpec(s))), parsePortSpec(s));
  }
});

test.run();
