import { render, screen } from '@testing-library/react';
import { ApiError } from '@jobs/client';
import { describe, expect, it } from 'vitest';
import { ProblemView } from '../src/components/ProblemView';

describe('ProblemView', () => {
  it('shows status, title, detail and each field error of a problem document', () => {
    render(
      <ProblemView
        error={
          new ApiError(409, {
            title: 'Conflict',
            status: 409,
            detail: 'Job job-1 is completed',
            errors: [{ path: 'a.b', message: 'bad' }],
          })
        }
      />,
    );
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('409 Conflict');
    expect(alert.textContent).toContain('Job job-1 is completed');
    expect(alert.querySelector('code')?.textContent).toBe('a.b');
  });

  it('shows any other error by its message, and nothing without one', () => {
    const { container, rerender } = render(<ProblemView error={null} />);
    expect(container.textContent).toBe('');
    rerender(<ProblemView error={new TypeError('Failed to fetch')} />);
    expect(screen.getByRole('alert').textContent).toContain('Failed to fetch');
  });
});
