import { containsDesired } from './apply';

describe('containsDesired', () => {
  it('matches when every desired field has the same value, extra fields aside', () => {
    expect(
      containsDesired(
        { spec: { port: 8080, env: [{ name: 'A', value: '1' }] } },
        {
          spec: { port: 8080, env: [{ name: 'A', value: '1' }], extra: true },
        },
      ),
    ).toBe(true);
    expect(
      containsDesired({ spec: { port: 8080 } }, { spec: { port: 80 } }),
    ).toBe(false);
  });

  it('takes an empty list or map as absent, as the API server stores it', () => {
    // Without this, a Knative Service with `env: []` was re-applied on
    // every event: the stored object has no `env` at all.
    expect(
      containsDesired(
        { spec: { containers: [{ name: 'app', env: [], resources: {} }] } },
        { spec: { containers: [{ name: 'app' }] } },
      ),
    ).toBe(true);
    expect(containsDesired({ env: [{ name: 'A', value: '1' }] }, {})).toBe(
      false,
    );
  });
});
