import { loadResources } from '../lib/resources';
import { clone, synth } from './helpers';
import { checkParity } from './parity';
test('dbg', () => {
  const r = loadResources(); const c: any = clone(r);
  c.tables.control.sort_key = { name: 'sk2', type: 'S' };
  c.functions['outbox-relay'].event_bus = false;
  c.functions['api'].trigger.routes.pop();
  console.log(checkParity(synth({}, c).json, r, 'hubble').join('\n'));
});
