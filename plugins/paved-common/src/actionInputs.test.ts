import {
  actionInputJsonSchema,
  deployAppActionInputSchema,
  parseActionInput,
} from './actionInputs';
import { DEFAULT_APP_RESOURCES } from './plans';

describe('the scaffolder action inputs', () => {
  it('fill in the defaults of the API once, for unset and null inputs', () => {
    expect(
      parseActionInput(deployAppActionInputSchema, {
        tenant: 'shop',
        name: 'web',
        image: 'ghcr.io/acme/web:1.0',
        port: null,
        cpu: undefined,
      }),
    ).toEqual({
      tenant: 'shop',
      name: 'web',
      image: 'ghcr.io/acme/web:1.0',
      port: 8080,
      env: [],
      secretEnv: [],
      minInstances: 0,
      maxInstances: 10,
      targetConcurrency: 100,
      cpu: DEFAULT_APP_RESOURCES.cpu,
      memory: DEFAULT_APP_RESOURCES.memory,
      waitForReady: true,
      timeoutSeconds: 300,
    });
  });

  it('report every problem at once in the words of the paved-common checks', () => {
    expect(() =>
      parseActionInput(
        deployAppActionInputSchema,
        { tenant: 'Shop', name: 'web', image: 'nginx', surprise: 1 },
        ['and one more'],
      ),
    ).toThrow(
      /^Tenant name "Shop" has uppercase letters.*; Image "nginx" has no tag or digest.*; Unrecognized key: "surprise"; and one more$/,
    );
  });

  it('publish a draft 7 JSON schema with the defaults and without patterns', () => {
    const json = actionInputJsonSchema(deployAppActionInputSchema) as any;
    expect(json.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(json.required).toEqual(['tenant', 'name', 'image']);
    expect(json.additionalProperties).toBe(false);
    expect(json.properties.port).toMatchObject({
      type: 'integer',
      default: 8080,
      description: 'The port the container listens on',
    });
    expect(JSON.stringify(json)).not.toContain('"pattern"');
  });
});
