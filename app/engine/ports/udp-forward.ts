// One published UDP port: each client (address and port) gets a flow, a socket of its own
// connected to the guest, so the guest's replies go back to that client alone. A flow ends
// after idleMs without traffic either way (as conntrack forgets a UDP "connection"); past
// maxFlows the least recently used one goes, so a flood of source ports cannot exhaust the
// engine's descriptors.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ForwardTarget } from './tcp-forward.js';

export interface UdpForwardOptions {
  addr: string;
  port: number;
  target: () => ForwardTarget | null;
  idleMs?: number;
  maxFlows?: number;
  onError?: (err: Error) => void;
}

interface Flow {
  sock: Socket;
  timer: NodeJS.Timeout;
  /** Datagrams that came before the flow's socket was connected (null once it is). */
  pending: Buffer[] | null;
}

export class UdpForward {
  private server: Socket | null = null;
  /** key "address|port" -> flow; Map order is the use order (oldest first). */
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly o: UdpForwardOptions) {}

  listen(): Promise<void> {
    const server = createSocket({ type: isIPv6(this.o.addr) ? 'udp6' : 'udp4', ipv6Only: false });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.bind({ address: this.o.addr, port: this.o.port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.o.onError?.(err));
        server.on('message', (msg, from) => this.fromClient(msg, from));
        this.server = server;
        resolve();
      });
    });
  }

  get flowCount(): number {
    return this.flows.size;
  }

  private fromClient(msg: Buffer, from: RemoteInfo): void {
    const key = `${from.address}|${from.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      const t = this.o.target();
      if (!t) return; // the VM is not running: dropped, as a closed port's datagram is
      flow = this.open(key, from, t);
    } else {
      this.flows.delete(key); // to the end: most recently used
      this.flows.set(key, flow);
    }
    this.touch(key, flow);
    if (flow.pending) flow.pending.push(msg);
    else this.send(key, flow, msg);
  }

  private send(key: string, flow: Flow, msg: Buffer): void {
    try {
      flow.sock.send(msg);
    } catch {
      this.end(key);
    }
  }

  private open(key: string, client: RemoteInfo, t: ForwardTarget): Flow {
    while (this.flows.size >= (this.o.maxFlows ?? 1024)) this.end(this.flows.keys().next().value as string);
    const sock = createSocket(isIPv6(t.host) ? 'udp6' : 'udp4');
    const flow: Flow = { sock, timer: setTimeout(() => {}, 0), pending: [] };
    // An ICMP port unreachable from the guest arrives as ECONNREFUSED: the flow just ends.
    sock.on('error', () => this.end(key));
    sock.on('message', (reply) => {
      if (this.flows.get(key) !== flow) return;
      this.touch(key, flow);
      this.server?.send(reply, client.port, client.address);
    });
    sock.connect(t.port, t.host, () => {
      const queued = flow.pending ?? [];
      flow.pending = null;
      for (const m of queued) this.send(key, flow, m);
    });
    this.flows.set(key, flow);
    return flow;
  }

  private touch(key: string, flow: Flow): void {
    clearTimeout(flow.timer);
    flow.timer = setTimeout(() => this.end(key), this.o.idleMs ?? 60_000);
    flow.timer.unref();
  }

  private end(key: string): void {
    const flow = this.flows.get(key);
    if (!flow) return;
    this.flows.delete(key);
    clearTimeout(flow.timer);
    try {
      flow.sock.close();
    } catch {
      /* closed already */
    }
  }

  async close(): Promise<void> {
    for (const key of [...this.flows.keys()]) this.end(key);
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
