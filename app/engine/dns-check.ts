// doctor's DNS port check: is the engine's loopback port free or its own, or held by another
// user (who would answer .vm lookups in its place)? And where the host resolver sends them.
import type { DoctorCheck } from '../contract/api.js';
import type { Config } from './config.js';
import { parseHostPort } from './config.js';
import { describeHolder, portHolder } from '../dns/port-holder.js';
import { wiredTarget } from '../dns/setup.js';

export function dnsPortCheck(config: Config, uid = process.getuid?.() ?? 0): DoctorCheck {
  const { host, port } = parseHostPort(config.dnsAddr);
  const addr = `${host}:${port}`;
  const wired = wiredTarget();
  const toUs = wired !== null && wired.port === port && (wired.address === host || host === '0.0.0.0');
  const wiredNote = !wired
    ? 'the host resolver is not set up for it (banger dns setup)'
    : toUs
      ? `the host resolver sends .${config.dnsZone} lookups here`
      : `the host resolver sends .${config.dnsZone} lookups to ${wired.address}:${wired.port}, not here (banger dns setup --apply to change)`;
  const h = port === 0 ? null : portHolder(host, port);
  if (h && h.uid !== uid) {
    return {
      name: 'dns port',
      ok: false,
      detail: `${addr} is held by ${describeHolder(h)}: your engine's DNS listener cannot bind it${toUs ? `, and your engine refuses to start while the host resolver sends .${config.dnsZone} lookups there` : ''}; ${wiredNote}`,
    };
  }
  const held = h ? 'is held by one of your processes (your engine, when it runs)' : 'is free';
  return { name: 'dns port', ok: true, detail: `${addr} ${held}; ${wiredNote}` };
}
