import { render, screen } from '@testing-library/react';
import App from './App';

describe('App', () => {
  it('renders the sign-in page with the guest provider and the Paved title', async () => {
    process.env = {
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Paved' },
            backend: { baseUrl: 'http://localhost:7007' },
            auth: { providers: { guest: {} } },
          },
          context: 'test',
        },
      ] as any,
    };

    render(App.createRoot());

    expect(
      await screen.findByText('Paved', {}, { timeout: 20000 }),
    ).toBeInTheDocument();
  }, 30000);
});
