import { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Create a tenant for a team on the starter plan',
    example: yaml.stringify({
      steps: [
        {
          id: 'tenant',
          action: 'paved:tenant:create',
          name: 'Create tenant',
          input: {
            name: 'team-a',
            displayName: 'Team A',
            owner: 'group:default/team-a',
            plan: 'starter',
          },
        },
      ],
    }),
  },
];
