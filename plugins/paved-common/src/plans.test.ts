import {
  DEFAULT_APP_RESOURCES,
  DEFAULT_PLANS,
  QUEUE_PROXY_RESOURCES,
} from './plans';
import { parseCpuMillis, parseMemoryBytes } from './quantity';

describe('the plan catalogue', () => {
  // An instance is the app's container plus Knative's queue-proxy; a rollout
  // runs one instance of the new revision beside the old one.
  const instanceCpu =
    parseCpuMillis(DEFAULT_APP_RESOURCES.cpu)! +
    parseCpuMillis(QUEUE_PROXY_RESOURCES.cpu)!;
  const instanceMemory =
    parseMemoryBytes(DEFAULT_APP_RESOURCES.memory)! +
    parseMemoryBytes(QUEUE_PROXY_RESOURCES.memory)!;

  it.each(DEFAULT_PLANS.map(plan => [plan.name, plan] as const))(
    '%s runs every app it allows, one default instance each, and a rollout',
    (_name, plan) => {
      const instances = plan.maxApps + 1;
      expect(instances * instanceCpu).toBeLessThanOrEqual(
        parseCpuMillis(plan.cpu)!,
      );
      expect(instances * instanceMemory).toBeLessThanOrEqual(
        parseMemoryBytes(plan.memory)!,
      );
    },
  );
});
