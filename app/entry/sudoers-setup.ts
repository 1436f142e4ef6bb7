// banger setup sudoers [--user NAME] [--firecracker PATH] [--apply | --remove]: no engine needed.
import type { ProcessRunner } from '../base/process.js';
import { applySetup, describePlan, planSetup, removeSetup, rootExec, type SetupBins } from '../priv/install.js';

export async function sudoersSetup(
  runner: ProcessRunner,
  mode: 'print' | 'apply' | 'remove',
  user?: string,
  bins: SetupBins = {},
): Promise<string> {
  const remove = mode === 'remove';
  const plan = await planSetup(runner, user, process.env, remove ? {} : bins, { network: !remove });
  if (mode === 'print') return describePlan(plan);
  if (mode === 'remove') {
    const removed = await removeSetup(plan, rootExec(runner));
    return `removed ${removed.join(', ')}`;
  }
  await applySetup(plan, rootExec(runner));
  return `installed ${plan.entry} and ${plan.dropIn} (visudo -c: ok); ${plan.target.user}'s engine now makes its host changes through it. Check: banger doctor`;
}
