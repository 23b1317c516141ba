/**
 * Keeps Paved's owner ClusterRole in place while this instance leads: applied
 * (server-side apply, forced) before the controllers start, then again every
 * resync period, so a role deleted or edited by hand comes back. A failed
 * apply is logged and retried with a capped backoff; it does not hold the
 * controllers back (a RoleBinding to a missing role grants nothing, and
 * starts granting once the role is there).
 *
 * When `ownerClusterRole` names another role, that role is the platform's to
 * manage and the operator leaves ClusterRoles alone.
 */
import { Logger, KubeClient, CLUSTER_ROLES } from '@paved/kube';
import { DesiredStateConfig } from '../desired/config';
import {
  desiredOwnerClusterRole,
  PAVED_OWNER_CLUSTER_ROLE,
} from '../desired/ownerRole';

export function ensureOwnerClusterRole(client: KubeClient): Promise<unknown> {
  return client.apply(CLUSTER_ROLES, desiredOwnerClusterRole());
}

export interface OwnerRoleKeeper {
  stop(): void;
}

/** Applies the role now (awaited once), then every `periodMs`; stop() ends it. */
export async function keepOwnerClusterRole(
  client: KubeClient,
  config: DesiredStateConfig,
  logger: Logger,
  periodMs: number,
): Promise<OwnerRoleKeeper> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const keeper = {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
  if (config.ownerClusterRole !== PAVED_OWNER_CLUSTER_ROLE) {
    logger.info('owner ClusterRole is not managed by the operator', {
      ownerClusterRole: config.ownerClusterRole,
    });
    return keeper;
  }
  let failures = 0;
  const attempt = async () => {
    try {
      await ensureOwnerClusterRole(client);
      failures = 0;
    } catch (error) {
      failures++;
      logger.error(
        `could not apply ClusterRole ${PAVED_OWNER_CLUSTER_ROLE}: ${
          (error as Error).message
        }`,
      );
    }
    if (stopped) return;
    const delay =
      failures === 0 ? periodMs : Math.min(500 * 2 ** failures, 60_000);
    timer = setTimeout(attempt, delay);
    timer.unref?.();
  };
  await attempt();
  return keeper;
}
