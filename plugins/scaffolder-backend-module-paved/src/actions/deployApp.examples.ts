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
      'Deploy without waiting, with a secret env var and more memory',
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
            env: [
              {
                name: 'DATABASE_URL',
                value: 'postgres://db/api',
                secret: true,
              },
            ],
            memory: '512Mi',
            waitForReady: false,
          },
        },
      ],
    }),
  },
];
