import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkOf } from '../../src/interaction/risk-signals.js';

test('addresses group into /24 (IPv4, also when IPv4-mapped) and /48 (IPv6) networks', () => {
  assert.equal(networkOf('203.0.113.7'), '203.0.113.0/24');
  assert.equal(networkOf('::ffff:203.0.113.99'), '203.0.113.0/24');
  assert.equal(networkOf('2001:db8:abcd:12::1'), '2001:db8:abcd::/48');
  assert.equal(networkOf('2001:db8::1'), networkOf('2001:0db8:0:5::1'), 'one /48 however it is written');
  assert.equal(networkOf('::1'), '0:0:0::/48');
  assert.notEqual(networkOf('203.0.114.7'), networkOf('203.0.113.7'));
});
