// Real-socket DNS clients for the tests: raw UDP/TCP exchanges, dns-packet queries, and dig.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import type { Test } from 'uvu';
import { DnsServer, type UdpPath } from '../../app/dns/server.js';
import { nativeUdpUnavailable } from '../../app/dns/native-udp.js';
import { runIf } from '../helpers/skip.js';

const execFileP = promisify(execFile);

/** Send raw bytes over UDP; resolves with the reply or null after `ms`. */
export function udpRaw(port: number, msg: Buffer, ms = 1000, host = '127.0.0.1'): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(null);
    }, ms);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, port, host);
  });
}

/** Send framed messages over one TCP connection; resolves with the replies received before `ms` or `want` replies. */
export function tcpRaw(
  port: number,
  payload: Buffer,
  want: number,
  ms = 1500,
): Promise<{ replies: Buffer[]; closed: boolean }> {
  return new Promise((resolve) => {
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    let closed = false;
    const c = connect(port, '127.0.0.1');
    const finish = () => {
      clearTimeout(timer);
      c.destroy();
      resolve({ replies, closed });
    };
    const timer = setTimeout(finish, ms);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length >= want) finish();
    });
    c.on('close', () => {
      closed = true;
      finish();
    });
    c.on('error', () => {});
    c.write(payload);
  });
}

export function frame(...msgs: Buffer[]): Buffer {
  return Buffer.concat(
    msgs.flatMap((m) => {
      const l = Buffer.alloc(2);
      l.writeUInt16BE(m.length);
      return [l, m];
    }),
  );
}

export function query(
  name: string,
  type: dnsPacket.RecordType = 'A',
  opts: { id?: number; edns?: boolean; rd?: boolean; doBit?: boolean } = {},
): Buffer {
  return dnsPacket.encode({
    id: opts.id ?? 4242,
    type: 'query',
    flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: opts.edns
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 4096,
            flags: opts.doBit ? dnsPacket.DNSSEC_OK : 0,
            options: [],
          } as unknown as dnsPacket.Answer,
        ]
      : [],
  });
}

/** dns-packet's decoded shape, loosened for reading in assertions (its typings omit rcode). */
export interface Rr {
  name: string;
  type: string;
  ttl: number;
  data: any;
  udpPayloadSize?: number;
  flag_do?: boolean;
}
export interface Reply {
  id: number;
  rcode: string;
  flag_aa: boolean;
  flag_rd: boolean;
  questions: { name: string; type: string }[];
  answers: Rr[];
  authorities: Rr[];
  additionals: Rr[];
}
export function decodeReply(buf: Buffer): Reply {
  return dnsPacket.decode(buf) as unknown as Reply;
}

export function rcodeOf(reply: Buffer): number {
  return reply[3]! & 0x0f;
}

export async function ask(
  port: number,
  name: string,
  type: dnsPacket.RecordType = 'A',
  opts: Parameters<typeof query>[2] & { tcp?: boolean } = {},
): Promise<{ raw: Buffer; p: Reply }> {
  const q = query(name, type, opts);
  const raw = opts.tcp ? (await tcpRaw(port, frame(q), 1)).replies[0] : await udpRaw(port, q);
  if (!raw) throw new Error(`no reply for ${name} ${type}${opts.tcp ? ' (tcp)' : ''}`);
  return { raw, p: decodeReply(raw) };
}

export interface DigResult {
  status: string;
  flags: string[];
  answers: string[][];
  authority: string[][];
  opt: boolean;
  raw: string;
}

/** Run dig as an independent peer and parse status, flags and sections from its text. */
export async function dig(port: number, args: string[], host = '127.0.0.1'): Promise<DigResult> {
  const { stdout } = await execFileP('dig', [`@${host}`, '-p', String(port), '+tries=1', '+time=2', ...args]);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'NONE';
  const flags = (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const section = (name: string) => {
    const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(stdout);
    return m
      ? m[1]!
          .split('\n')
          .filter((l) => l && !l.startsWith(';'))
          .map((l) => l.split(/\s+/))
      : [];
  };
  return {
    status,
    flags,
    answers: section('ANSWER'),
    authority: section('AUTHORITY'),
    opt: stdout.includes('OPT PSEUDOSECTION'),
    raw: stdout,
  };
}

/** Every UDP path the server has; one that cannot run here carries the reason. */
export const UDP_PATHS: { udp: UdpPath; unavailable: string | null }[] = [
  { udp: 'dgram', unavailable: null },
  { udp: 'native', unavailable: nativeUdpUnavailable() },
];

/**
 * The suite's `test` and `startServer` for one UDP path: names carry the path, servers use it,
 * and where the path cannot run here each test is skipped through the runner with the reason.
 */
export function forPath(
  suite: Test,
  path: (typeof UDP_PATHS)[number],
): { test: (name: string, fn: () => void | Promise<void>) => void; startServer: typeof startServer; udp: UdpPath } {
  const run = runIf(suite, path.unavailable);
  const test = (name: string, fn: () => void | Promise<void>) => run(`[${path.udp}] ${name}`, fn);
  return { test, startServer: (extra = {}) => startServer({ udp: path.udp, ...extra }), udp: path.udp };
}

/** A started server on 127.0.0.1 port 0 with a few records. */
export async function startServer(
  extra: Partial<ConstructorParameters<typeof DnsServer>[0]> = {},
): Promise<{ server: DnsServer; port: number }> {
  const server = new DnsServer({ listeners: [{ host: '127.0.0.1', port: 0 }], ...extra });
  server.setRecords([
    { name: 'dev', ip: '172.30.0.2' },
    { name: 'db', ip: '172.30.0.3' },
  ]);
  await server.start();
  const l = server.status().listeners[0]!;
  if (!l.up) throw new Error(`listener down: ${l.error}`);
  return { server, port: l.port };
}
