import { PassThrough } from 'node:stream';
import { ProgressLine } from '../../apps/cli/src/progress-bar';

describe('CLI progress line', () => {
  const capture = () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    return { out, text: () => text };
  };

  it('redraws in place on a terminal and ends with a newline', () => {
    const c = capture();
    const line = new ProgressLine(c.out, true, 10);
    line.render('running', 50, 'half');
    line.render('running', 50, 'half');
    line.render('completed', 100, null);
    line.done();
    expect(c.text()).toBe('\rrunning   [#####-----]  50% half\x1b[K\rcompleted [##########] 100%\x1b[K\n');
  });

  it('prints one line per change when not a terminal, without a bar before any progress', () => {
    const c = capture();
    const line = new ProgressLine(c.out, false, 4);
    line.render('pending', null, null);
    line.render('running', 0, null);
    line.render('running', 0, null);
    line.render('running', 130, 'over');
    expect(c.text()).toBe('pending\nrunning   [----]   0%\nrunning   [####] 100% over\n');
  });
});
