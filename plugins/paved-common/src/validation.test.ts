import fc from 'fast-check';
import {
  appNameProblem,
  cpuProblem,
  domainProblem,
  envNameProblem,
  groupRefProblem,
  imageProblem,
  memoryProblem,
  portProblem,
  tenantNameProblem,
  TENANT_NAME_MAX_LENGTH,
  APP_NAME_MAX_LENGTH,
} from './validation';
import { tenantNamespace } from './identity';

const dnsLabelChar = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyz0123456789-'.split(''),
);
const validLabel = (max: number) =>
  fc
    .tuple(
      fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split('')),
      fc.string({ unit: dnsLabelChar, maxLength: max - 2 }),
      fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')),
    )
    .map(([a, b, c]) => a + b + c);

describe('tenant and app names', () => {
  it.each(['a', 'team-a', 'shop2', 'a1-b2-c3'])('accepts %s', name => {
    expect(tenantNameProblem(name)).toBeUndefined();
    expect(appNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['Team-A', /uppercase.*team-a/],
    ['1team', /start with a lowercase letter/],
    ['team-', /end with a lowercase letter or digit/],
    ['team_a', /contains "_"/],
    ['team.a', /contains "\."/],
    ['x'.repeat(TENANT_NAME_MAX_LENGTH + 1), /at most 56 .*namespace/],
  ])(
    'rejects tenant name %j with a message that says what to fix',
    (name, message) => {
      expect(tenantNameProblem(name)).toMatch(message);
    },
  );

  it('rejects app names longer than the revision suffix allows', () => {
    expect(appNameProblem('a'.repeat(APP_NAME_MAX_LENGTH + 1))).toMatch(
      /at most 50 .*revisions/,
    );
  });

  it('accepts every valid label and keeps the namespace a DNS label', () => {
    fc.assert(
      fc.property(validLabel(TENANT_NAME_MAX_LENGTH), name => {
        expect(tenantNameProblem(name)).toBeUndefined();
        const namespace = tenantNamespace(name);
        expect(namespace.length).toBeLessThanOrEqual(63);
        expect(namespace).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      }),
    );
  });

  it('rejects any name with a character outside [a-z0-9-], naming the character or the case', () => {
    fc.assert(
      fc.property(
        validLabel(20),
        fc.integer({ min: 0, max: 19 }),
        fc.constantFrom('_', '.', ' ', '/', 'A', 'Z', 'é', ':', '@'),
        (name, at, bad) => {
          const index = Math.min(at, name.length - 1);
          const broken = name.slice(0, index) + bad + name.slice(index + 1);
          const problem = tenantNameProblem(broken);
          expect(problem).toBeDefined();
          expect(problem).toMatch(/uppercase|contains|start with|end with/);
        },
      ),
    );
  });
});

describe('images', () => {
  it.each([
    'nginx:1.27',
    'ghcr.io/acme/web:1.4.2',
    'registry.example.com:5000/team/app:v1',
    'localhost:5000/app:latest',
    `acme/app@sha256:${'a'.repeat(64)}`,
    `acme/app:1.0@sha256:${'0'.repeat(64)}`,
    'gcr.io/knative-samples/helloworld-go:latest',
    'a__b/c.d-e:TAG_1.2-rc',
  ])('accepts %s', image => {
    expect(imageProblem(image)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['nginx', /no tag or digest.*nginx:1\.0/],
    ['https://ghcr.io/acme/web:1', /scheme/],
    ['ghcr.io/Acme/web:1', /invalid repository name/],
    ['acme/web:-bad', /invalid tag/],
    ['acme/web@sha256:abc', /malformed digest/],
    ['acme/ web:1', /white space/],
    [`acme/web:${'t'.repeat(129)}`, /invalid tag/],
  ])('rejects %j', (image, message) => {
    expect(imageProblem(image)).toMatch(message);
  });

  it('accepts any repository/name:tag built from the grammar', () => {
    const component = fc.stringMatching(
      /^[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,2}$/,
    );
    const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
    fc.assert(
      fc.property(
        fc.array(component, { minLength: 1, maxLength: 3 }),
        tag,
        (path, t) => {
          expect(
            imageProblem(`registry.example.com/${path.join('/')}:${t}`),
          ).toBeUndefined();
        },
      ),
    );
  });
});

describe('ports', () => {
  it('accepts 1..65535 except the reserved ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), port => {
        const reserved = [8008, 8012, 8013, 8022, 9090, 9091].includes(port);
        expect(portProblem(port) ?? 'accepted').toMatch(
          reserved ? /reserved/ : /^accepted$/,
        );
      }),
    );
  });

  it("refuses each of the queue-proxy's ports, profiling's 8008 included", () => {
    for (const port of [8008, 8012, 8013, 8022, 9090, 9091]) {
      expect(portProblem(port)).toMatch(/is reserved by the platform/);
    }
  });

  it('rejects out-of-range and fractional ports', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 65536 })),
        port => {
          expect(portProblem(port)).toMatch(
            /out of range; use a port from 1 to 65535/,
          );
        },
      ),
    );
    expect(portProblem(80.5)).toMatch(/whole number/);
  });
});

describe('quantities', () => {
  it.each(['10m', '250m', '0.5', '1', '64'])('accepts CPU %s', q => {
    expect(cpuProblem(q)).toBeUndefined();
  });
  it.each([
    ['1.5 cores', /not a CPU quantity/],
    ['5m', /out of range/],
    ['65', /out of range/],
    ['-1', /not a CPU quantity/],
    ['1Gi', /not a CPU quantity/],
  ])('rejects CPU %j', (q, message) => {
    expect(cpuProblem(q)).toMatch(message);
  });
  it.each(['16Mi', '256Mi', '1Gi', '1G', '268435456'])(
    'accepts memory %s',
    q => {
      expect(memoryProblem(q)).toBeUndefined();
    },
  );
  it.each([
    ['1GB', /not a memory quantity.*256Mi/],
    ['1Mi', /out of range/],
    ['300Gi', /out of range/],
    ['', /not a memory quantity/],
  ])('rejects memory %j', (q, message) => {
    expect(memoryProblem(q)).toMatch(message);
  });
  it('accepts every whole number of Mi in range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 256 * 1024 }), mi => {
        expect(memoryProblem(`${mi}Mi`)).toBeUndefined();
      }),
    );
  });
});

describe('env var names, domains and owners', () => {
  it('accepts C identifiers that the platform does not set', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/), name => {
        const reserved = [
          'PORT',
          'K_SERVICE',
          'K_CONFIGURATION',
          'K_REVISION',
        ].includes(name);
        expect(envNameProblem(name) ?? 'accepted').toMatch(
          reserved ? /set by the platform/ : /^accepted$/,
        );
      }),
    );
  });
  it.each([
    ['1ABC', /invalid/],
    ['MY-VAR', /invalid/],
    ['PORT', /set by the platform/],
    ['', /empty/],
  ])('rejects env name %j', (name, message) => {
    expect(envNameProblem(name)).toMatch(message);
  });
  it.each(['shop.example.com', 'a.b', 'x-1.example.co.uk'])(
    'accepts domain %s',
    d => {
      expect(domainProblem(d)).toBeUndefined();
    },
  );
  it.each([
    ['example', /host name/],
    ['*.example.com', /wildcard/],
    ['Shop.example.com', /uppercase/],
    ['-a.example.com', /host name/],
    [`${'a'.repeat(64)}.com`, /longer than 63/],
  ])('rejects domain %j', (d, message) => {
    expect(domainProblem(d)).toMatch(message);
  });
  it('accepts full group refs only', () => {
    expect(groupRefProblem('group:default/team-a')).toBeUndefined();
    expect(groupRefProblem('team-a')).toMatch(/group:default\/team-a/);
    expect(groupRefProblem('user:default/alice')).toMatch(
      /not a group entity ref/,
    );
  });
});
