import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvCell } from '../../src/account/activity-export.js';
import { consolePath } from '../../src/account/sign-in.js';

test('after sign-in the console only returns to its own paths', () => {
  for (const ok of ['/account', '/account/', '/account/password', '/account/factors?done=removed', '/account/activity.json']) assert.equal(consolePath(ok), ok);
  for (const bad of ['https://evil.example/account', '//evil.example/account', '/account//evil.example', '/accounts', '/admin/v1/users', '/account\\evil', '/account/x y', 42, undefined]) {
    assert.equal(consolePath(bad), '/account', String(bad));
  }
});

test('CSV cells are quoted and never start a spreadsheet formula', () => {
  assert.equal(csvCell('login.failed'), '"login.failed"');
  assert.equal(csvCell('say "hi", then go'), '"say ""hi"", then go"');
  assert.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
  assert.equal(csvCell('+1'), '"\'+1"');
  assert.equal(csvCell({ step: 'totp' }), '"{""step"":""totp""}"');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(7), '"7"');
});
