import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Deploy an image and wait until it is Ready',
    example: yaml.stringify({
      steps: [
        {
          id: 'deploy',
          action: 'paved:app:deploy',
          name: 'Deploy',
          input: {
            tenant: 'team-a',
            name: 'hello',
            image: 'ghcr.io/knative/helloworld-go:latest',
            port: 8080,
            env: [{ name: 'TARGET', value: 'Paved' }],
            minInstances: 0,
            maxInstances: 5,
          },
        },
      ],
    }),
  },
  {
    description:
      "Deploy without waiting, with more memory and a secret env var whose value comes from the task's secrets (a `ui:field: Secret` parameter named databaseUrl), never from the inputs",
    example: yaml.stringify({
      steps: [
        {
          id: 'deploy',
          action: 'paved:app:deploy',
          name: 'Deploy',
          input: {
            tenant: 'team-a',
            name: 'api',
            image: 'registry.example.com/team-a/api:2.3.1',
            port: 3000,
            env: [{ name: 'LOG_LEVEL', value: 'info' }],
            secretEnv: [{ name: 'DATABASE_URL', secret: 'databaseUrl' }],
            memory: '512Mi',
            waitForReady: false,
          },
        },
      ],
    }),
  },
];
