import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Delete a tenant, confirming its name',
    example: yaml.stringify({
      steps: [
        {
          id: 'delete',
          action: 'paved:tenant:delete',
          name: 'Delete tenant',
          input: { name: 'team-a', confirm: 'team-a' },
        },
      ],
    }),
  },
];
