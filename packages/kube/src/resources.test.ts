import {
  CAPSULE_TENANTS,
  CILIUM_NETWORK_POLICIES,
  crdName,
  DOMAIN_MAPPINGS,
  featureOf,
  KNATIVE_SERVICES,
  NAMESPACES,
  OPTIONAL_APIS,
  OPTIONAL_FEATURES,
  optionalCrdNames,
  RESOURCE_TABLE,
  REVISIONS,
  TENANTS,
} from './resources';

describe('the resource table', () => {
  it('names CRDs <plural>.<group>, core types by their plural', () => {
    expect(crdName(KNATIVE_SERVICES)).toBe('services.serving.knative.dev');
    expect(crdName(TENANTS)).toBe('tenants.paved.dev');
    expect(crdName(NAMESPACES)).toBe('namespaces');
  });

  it('gives each optional type its feature, and none to the others', () => {
    expect(featureOf(CAPSULE_TENANTS)).toBe('capsule');
    expect(featureOf(CILIUM_NETWORK_POLICIES)).toBe('cilium');
    expect(featureOf(REVISIONS)).toBe('knative');
    expect(featureOf(DOMAIN_MAPPINGS)).toBe('knative');
    // Paved's Tenant shares its plural with Capsule's, not its group.
    expect(featureOf(TENANTS)).toBeUndefined();
    expect(featureOf(NAMESPACES)).toBeUndefined();
  });

  it('derives the optional CRD names and features from the one table', () => {
    expect([...optionalCrdNames()].sort()).toEqual([
      'ciliumnetworkpolicies.cilium.io',
      'domainmappings.serving.knative.dev',
      'revisions.serving.knative.dev',
      'services.serving.knative.dev',
      'tenants.capsule.clastix.io',
    ]);
    expect(OPTIONAL_FEATURES).toEqual(['capsule', 'cilium', 'knative']);
    expect(RESOURCE_TABLE.optional).toBe(OPTIONAL_APIS);
    // No type is both core or Paved's and optional.
    const fixed = [...RESOURCE_TABLE.core, ...RESOURCE_TABLE.paved].map(
      crdName,
    );
    expect(fixed.filter(n => optionalCrdNames().has(n))).toEqual([]);
  });
});
