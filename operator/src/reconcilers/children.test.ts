import {
  CAPSULE_TENANTS,
  ClusterFeatures,
  KNATIVE_SERVICES,
  KubeObject,
  NAMESPACES,
  ROLE_BINDINGS,
  TENANTS,
} from '@paved/kube';
import { condition } from '../desired/conditions';
import {
  Child,
  ChildRegistry,
  reconcileChildren,
  removeChildren,
  watchedTypes,
} from './children';
import { ReconcileContext } from './context';
import { TENANT_CHILDREN } from './tenant/children';
import { APP_CHILDREN } from './app/children';

const owner = { metadata: { name: 'o', generation: 3 } };
type Owner = typeof owner;

/** A child that records when it starts and ends, and answers `status`. */
function recorded(
  log: string[],
  name: string,
  options: Partial<Child<Owner, Owner>> & {
    status?: 'True' | 'False';
    gone?: boolean;
  } = {},
): Child<Owner, Owner> {
  return {
    name,
    types: [],
    desired: () => [],
    reconcile: async (_ctx, o) => {
      log.push(`start ${name}`);
      await new Promise(r => setImmediate(r));
      log.push(`end ${name}`);
      return {
        condition: condition(o, name, options.status ?? 'True', 'R', name),
      };
    },
    remove: async () => {
      log.push(`remove ${name}`);
      return options.gone ?? true;
    },
    ...options,
  };
}

const features = (f: Partial<ClusterFeatures> = {}): ClusterFeatures => ({
  capsule: false,
  cilium: false,
  knative: false,
  ...f,
});
const ctx = (f: Partial<ClusterFeatures> = {}) =>
  ({ features: features(f) } as unknown as ReconcileContext);
const registry = (
  children: Child<Owner, Owner>[],
): ChildRegistry<Owner, Owner> => ({
  owner: TENANTS,
  ownerKey: () => undefined,
  children,
});

describe('the child registry', () => {
  it('reconciles in order: a gate alone first, the entries after it together', async () => {
    const log: string[] = [];
    const reg = registry([
      recorded(log, 'a', { gate: true }),
      recorded(log, 'b'),
      recorded(log, 'c'),
    ]);
    const conditions: ReturnType<typeof condition>[] = [];
    const result = await reconcileChildren(reg, ctx(), owner, conditions);
    expect(log).toEqual([
      'start a',
      'end a',
      'start b',
      'start c',
      'end b',
      'end c',
    ]);
    expect(conditions.map(c => [c.type, c.observedGeneration])).toEqual([
      ['a', 3],
      ['b', 3],
      ['c', 3],
    ]);
    expect(result.blocked).toBeUndefined();
    expect([...result.outcomes.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('stops at a gate that is not True, with its condition', async () => {
    const log: string[] = [];
    const reg = registry([
      recorded(log, 'a', { gate: true, status: 'False' }),
      recorded(log, 'b'),
    ]);
    const result = await reconcileChildren(reg, ctx(), owner);
    expect(log).toEqual(['start a', 'end a']);
    expect(result.blocked?.type).toBe('a');
  });

  it('skips a child whose optional API is not installed, both ways', async () => {
    const log: string[] = [];
    const reg = registry([
      recorded(log, 'a'),
      recorded(log, 'k', { requires: 'knative' }),
    ]);
    await reconcileChildren(reg, ctx(), owner);
    await removeChildren(reg, ctx(), owner, { waitForEach: true });
    expect(log).toEqual(['start a', 'end a', 'remove a']);
    log.length = 0;
    await reconcileChildren(reg, ctx({ knative: true }), owner);
    expect(log).toContain('start k');
  });

  it('removes in reverse order, waiting for each, or asking all to go', async () => {
    const log: string[] = [];
    const reg = registry([
      recorded(log, 'a'),
      recorded(log, 'b', { gone: false }),
      recorded(log, 'c'),
    ]);
    expect(await removeChildren(reg, ctx(), owner, { waitForEach: true })).toBe(
      false,
    );
    expect(log).toEqual(['remove c', 'remove b']);
    log.length = 0;
    expect(
      await removeChildren(reg, ctx(), owner, { waitForEach: false }),
    ).toBe(false);
    expect(log).toEqual(['remove c', 'remove b', 'remove a']);
  });

  it("watches the Tenant's and App's child types, optional ones only when served", () => {
    const plurals = (types: { type: { plural: string } }[]) =>
      types.map(t => t.type.plural);
    expect(plurals(watchedTypes(TENANT_CHILDREN, features()))).toEqual([
      'namespaces',
      'resourcequotas',
      'limitranges',
      'rolebindings',
      'networkpolicies',
    ]);
    const all = watchedTypes(
      TENANT_CHILDREN,
      features({ capsule: true, cilium: true }),
    );
    expect(all.map(t => t.type)).toEqual(
      expect.arrayContaining([CAPSULE_TENANTS, ROLE_BINDINGS, NAMESPACES]),
    );
    expect(plurals(all)).toContain('ciliumnetworkpolicies');
    expect(watchedTypes(APP_CHILDREN, features())).toEqual([]);
    expect(
      plurals(watchedTypes(APP_CHILDREN, features({ knative: true }))),
    ).toEqual(['services', 'revisions', 'domainmappings']);
    expect(
      watchedTypes(APP_CHILDREN, features({ knative: true }))[0].type,
    ).toBe(KNATIVE_SERVICES);
  });

  it('maps a child event to its owner by label', () => {
    const child = (labels: Record<string, string>): KubeObject => ({
      metadata: { name: 'x', namespace: 'tenant-a', labels },
    });
    expect(TENANT_CHILDREN.ownerKey(child({ 'paved.dev/tenant': 'a' }))).toBe(
      'a',
    );
    expect(APP_CHILDREN.ownerKey(child({ 'paved.dev/app': 'web' }))).toBe(
      'tenant-a/web',
    );
    expect(APP_CHILDREN.ownerKey(child({}))).toBeUndefined();
  });
});
