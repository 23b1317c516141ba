import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Delete an app, confirming its name',
    example: yaml.stringify({
      steps: [
        {
          id: 'delete',
          action: 'paved:app:delete',
          name: 'Delete app',
          input: { tenant: 'team-a', name: 'hello', confirm: 'team-a/hello' },
        },
      ],
    }),
  },
];
