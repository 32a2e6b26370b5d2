import { createServer, type Server } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { HostGuard, OutboundRefusedError, isOutboundRefused, type Resolver } from '../../packages/outbound/src/host-guard';

const table = (entries: Record<string, string[]>): Resolver => async (hostname) => {
  const list = entries[hostname];
  if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return list.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('HostGuard', () => {
  const guards: HostGuard[] = [];
  const guard = (resolve: Resolver, allowPrivateNetworks = false) => {
    const g = new HostGuard({ allowPrivateNetworks, resolve, resolveTimeoutMs: 500 });
    guards.push(g);
    return g;
  };
  afterAll(() => guards.forEach((g) => g.destroy()));

  describe('checkUrl (create time)', () => {
    const g = () => guard(table({ 'public.test': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'], 'inside.test': ['10.1.2.3'], 'mixed.test': ['93.184.215.14', '127.0.0.1'], 'mapped.test': ['::ffff:169.254.169.254'] }));

    it.each([
      'http://127.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]/',
      'http://[fd00::1]/',
      'http://0.0.0.0/',
      'http://2130706433/', // 127.0.0.1 written as one number
      'http://0x7f.1/', // and in hex shorthand
      'http://017700000001/', // and in octal
      'http://100.64.0.1/',
      'http://inside.test/',
      'http://mixed.test/',
      'http://mapped.test/',
      'http://nowhere.invalid/',
      'ftp://public.test/',
      'not a url',
    ])('refuses %s', async (url) => {
      await expect(g().checkUrl(url)).rejects.toBeInstanceOf(OutboundRefusedError);
    });

    it('names the reason', async () => {
      await expect(g().checkUrl('http://inside.test/x')).rejects.toThrow('inside.test resolves to 10.1.2.3 is private');
      await expect(g().checkUrl('http://nowhere.invalid/x')).rejects.toThrow('does not resolve');
    });

    it.each(['https://public.test/hook', 'http://93.184.215.14:8080/x', 'https://[2606:4700::1111]/'])('allows %s', async (url) => {
      await expect(g().checkUrl(url)).resolves.toBeUndefined();
    });

    it('gives up on slow DNS within its bound', async () => {
      const slow = guard(() => new Promise(() => undefined));
      const started = Date.now();
      await expect(slow.checkUrl('https://slow.test/')).rejects.toThrow('does not resolve');
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('is lifted by allowPrivateNetworks (the scheme check stays)', async () => {
      const open = guard(table({}), true);
      await expect(open.checkUrl('http://127.0.0.1/')).resolves.toBeUndefined();
      await expect(open.checkUrl('http://nowhere.invalid/')).resolves.toBeUndefined();
      await expect(open.checkUrl('file:///etc/passwd')).rejects.toBeInstanceOf(OutboundRefusedError);
    });
  });

  describe('send time: the agents connect only to checked addresses', () => {
    let server: Server;
    let port = 0;
    let hits = 0;
    beforeAll(async () => {
      server = createServer((_req, res) => {
        hits++;
        res.end('ok');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    const get = (g: HostGuard, url: string) => axios.get(url, { httpAgent: g.httpAgent, httpsAgent: g.httpsAgent, proxy: false, timeout: 3000 });

    it('refuses a name that resolves to loopback without connecting', async () => {
      const before = hits;
      const err: unknown = await get(guard(table({ 'evil.test': ['127.0.0.1'] })), `http://evil.test:${port}/`).catch((e: unknown) => e);
      expect(isOutboundRefused(err)).toBe(true);
      expect(hits).toBe(before);
    });

    it('closes the DNS-rebinding window: the create-time answer does not carry over to the connection', async () => {
      let calls = 0;
      // First answer public (passes the create-time check), every later one loopback (the rebinding attack).
      const rebinding: Resolver = async () => [{ address: calls++ === 0 ? '93.184.215.14' : '127.0.0.1', family: 4 }];
      const g = guard(rebinding);
      await expect(g.checkUrl(`http://rebind.test:${port}/`)).resolves.toBeUndefined();
      const before = hits;
      const err: unknown = await get(g, `http://rebind.test:${port}/`).catch((e: unknown) => e);
      expect(isOutboundRefused(err)).toBe(true);
      expect(hits).toBe(before);
    });

    it('hands the socket exactly the addresses it checked', async () => {
      const g = guard(table({ 'two.test': ['93.184.215.14', '2606:4700::1111'] }));
      const all = await new Promise<LookupAddress[]>((resolve, reject) =>
        g.lookup('two.test', { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses as LookupAddress[]))),
      );
      expect(all.map((a) => a.address)).toEqual(['93.184.215.14', '2606:4700::1111']);
      const v6 = await new Promise<string>((resolve, reject) => g.lookup('two.test', { family: 6 }, (err, address) => (err ? reject(err) : resolve(address as string))));
      expect(v6).toBe('2606:4700::1111');
    });

    it('reaches a private address when allowPrivateNetworks is set', async () => {
      const before = hits;
      const res = await get(guard(table({}), true), `http://127.0.0.1:${port}/`);
      expect(res.data).toBe('ok');
      expect(hits).toBe(before + 1);
    });

    it('checkLiteral refuses a literal private IP (which never reaches lookup)', () => {
      const g = guard(table({}));
      expect(() => g.checkLiteral(`http://127.0.0.1:${port}/`)).toThrow(OutboundRefusedError);
      expect(() => g.checkLiteral('http://[::ffff:a9fe:a9fe]/')).toThrow('169.254.169.254');
      expect(g.checkLiteral('https://example.test/x').hostname).toBe('example.test');
    });
  });
});
