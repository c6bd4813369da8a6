// Drives Gatehouse's customer auth tickets with Kibo's own REST SDK (npm @kibocommerce/rest-sdk):
// StorefrontAuthTicketApi, and the CustomerAccountApi calls that answer with a CustomerAuthTicket.
//
//   node authtickets.mjs [login]     sign-up and login, Create-Login, refresh (rotation, replay grace), the
//                                    customer's own token as the SDK's accessToken
//   node authtickets.mjs 2fa-start   (tenant in twoFactor mode "always") login answers requires2FA; the
//                                    pending-login token as accessToken asks for the mailed code
//   node authtickets.mjs 2fa-finish  validate2FAAndCreateAuthTicket: a wrong code, then KIBO_OTP_CODE
//   node authtickets.mjs otp-start   passwordless: generateAndSendOtp for KIBO_EMAIL and for an unknown address
//   node authtickets.mjs otp-finish  validateOtpAndCreateAuthTicket: a wrong code, then KIBO_OTP_CODE
//
// Settings (harness.mjs): KIBO_API_HOST, KIBO_TENANT_ID, KIBO_SITE_ID, KIBO_ACCESS_TOKEN (an application
// token); 2fa-start needs KIBO_EMAIL and KIBO_PASSWORD; 2fa-finish KIBO_PENDING_TOKEN, KIBO_USER_ID and
// KIBO_OTP_CODE; otp-start KIBO_EMAIL; otp-finish KIBO_EMAIL and KIBO_OTP_CODE.

import { randomBytes } from 'node:crypto';
import { CustomerAccountApi, StorefrontAuthTicketApi } from '@kibocommerce/rest-sdk/clients/Customer/index.js';
import { call, check, configuration, equal, isKiboDate, main, setting } from './harness.mjs';

const wrongCode = (code) => (code === '000000' ? '111111' : '000000');

/** A full CustomerAuthTicket: both tokens, their dates, the user and the account. */
function checkTicket(ticket, what, accountId) {
  check(typeof ticket.accessToken === 'string' && ticket.accessToken.length > 20, `${what}: accessToken`, ticket.accessToken);
  check(typeof ticket.refreshToken === 'string' && ticket.refreshToken.length > 20, `${what}: refreshToken`, ticket.refreshToken);
  check(typeof ticket.jwtAccessToken === 'string' && ticket.jwtAccessToken.split('.').length === 3, `${what}: jwtAccessToken`);
  isKiboDate(ticket.accessTokenExpiration, `${what}: accessTokenExpiration`);
  isKiboDate(ticket.refreshTokenExpiration, `${what}: refreshTokenExpiration`);
  check(Date.parse(ticket.accessTokenExpiration) > Date.now(), `${what}: access token not yet expired`, ticket.accessTokenExpiration);
  check(Date.parse(ticket.refreshTokenExpiration) >= Date.parse(ticket.accessTokenExpiration), `${what}: refresh outlives access`);
  equal(ticket.requires2FA, false, `${what}: requires2FA`);
  check(typeof ticket.userId === 'string' && ticket.userId.length > 0, `${what}: userId`, ticket.userId);
  equal(ticket.customerAccount?.userId, ticket.userId, `${what}: customerAccount.userId`);
  if (accountId !== undefined) equal(ticket.customerAccount?.id, accountId, `${what}: customerAccount.id`);
  // CustomerAccount's lists are arrays even when empty: typed clients iterate them.
  for (const list of ['contacts', 'notes', 'attributes', 'segments']) {
    check(Array.isArray(ticket.customerAccount?.[list]), `${what}: customerAccount.${list} is an array`, ticket.customerAccount?.[list]);
  }
}

async function login() {
  const tickets = new StorefrontAuthTicketApi(configuration());
  const accounts = new CustomerAccountApi(configuration());
  const tag = `sdk${randomBytes(4).toString('hex')}`;
  const password = `storefront sdk password ${tag}`;

  // Sign-up: the account, its login and a ticket in one call (C2).
  const signup = await call(accounts, 'addAccountAndLogin', {
    customerAccountAndAuthInfo: { account: { emailAddress: `nell.${tag}@example.com`, userName: `nell.${tag}`, firstName: 'Nell' }, password },
  });
  checkTicket(signup, 'addAccountAndLogin');
  const nell = signup.customerAccount;
  equal([nell.emailAddress, nell.userName, nell.firstName], [`nell.${tag}@example.com`, `nell.${tag}`, 'Nell'], 'addAccountAndLogin account');

  // An account without a login gets one, and is logged in (C3); a second login is refused.
  const otto = await call(accounts, 'addAccount', { customerAccount: { emailAddress: `otto.${tag}@example.com`, firstName: 'Otto' } });
  const created = await call(accounts, 'addLoginToExistingCustomer', {
    accountId: otto.id, customerLoginInfo: { emailAddress: `otto.${tag}@example.com`, username: `otto.${tag}`, password },
  });
  checkTicket(created, 'addLoginToExistingCustomer', otto.id);
  equal(created.customerAccount.userName, `otto.${tag}`, 'addLoginToExistingCustomer userName');
  await call(accounts, 'addLoginToExistingCustomer', { accountId: otto.id, customerLoginInfo: { username: `otto2.${tag}`, password } },
    { status: 409, errorCode: 'LOGIN_EXISTS' });

  // Login (A1), by user name and by email address in any case; wrong passwords are one 401.
  const first = await call(tickets, 'createUserAuthTicket', { customerUserAuthInfo: { username: `nell.${tag}`, password } });
  checkTicket(first, 'createUserAuthTicket', nell.id);
  const byEmail = await call(tickets, 'createUserAuthTicket', {
    customerUserAuthInfo: { username: `NELL.${tag}@EXAMPLE.COM`, password, fingerprint: 'sdk-device', region: 'EU' },
  });
  checkTicket(byEmail, 'createUserAuthTicket by email', nell.id);
  const trimmed = await call(tickets, 'createUserAuthTicket', { customerUserAuthInfo: { username: `otto.${tag}`, password }, responseFields: 'userId,customerAccount(id)' });
  equal(trimmed, { userId: created.userId, customerAccount: { id: otto.id } }, 'createUserAuthTicket with responseFields');
  await call(tickets, 'createUserAuthTicket', { customerUserAuthInfo: { username: `nell.${tag}`, password: 'not the password' } },
    { status: 401, errorCode: 'INVALID_CREDENTIALS' });
  await call(tickets, 'createUserAuthTicket', { customerUserAuthInfo: { username: `ghost.${tag}`, password } },
    { status: 401, errorCode: 'INVALID_CREDENTIALS' });

  // Refresh (A2): a new pair; replaying the parent at once gets the same successor (the grace window).
  const refreshed = await call(tickets, 'refreshUserAuthTicket', { refreshToken: first.refreshToken });
  checkTicket(refreshed, 'refreshUserAuthTicket', nell.id);
  check(refreshed.refreshToken !== first.refreshToken && refreshed.accessToken !== first.accessToken, 'refreshUserAuthTicket rotates both tokens');
  const replayed = await call(tickets, 'refreshUserAuthTicket', { refreshToken: first.refreshToken });
  equal([replayed.accessToken, replayed.refreshToken], [refreshed.accessToken, refreshed.refreshToken], 'a replay within the grace window');
  const again = await call(tickets, 'refreshUserAuthTicket', { refreshToken: refreshed.refreshToken, accountId: nell.id });
  checkTicket(again, 'refreshUserAuthTicket with accountId', nell.id);
  await call(tickets, 'refreshUserAuthTicket', { refreshToken: `gh_rt_${tag}` }, { status: 401, errorCode: 'INVALID_REFRESH_TOKEN' });

  // The customer's own access token as the SDK's accessToken: their account, and nobody else's.
  const asNell = new CustomerAccountApi(configuration(again.accessToken));
  const current = await call(asNell, 'getCurrentAccount', {});
  equal([current.id, current.userName], [nell.id, `nell.${tag}`], 'getCurrentAccount with the customer token');
  await call(asNell, 'getAccount', { accountId: otto.id }, { status: 403, errorCode: 'MISSING_BEHAVIOR' });

  return {
    tag,
    nell: { id: nell.id, userId: signup.userId, refreshToken: again.refreshToken, accessToken: again.accessToken,
      retiredRefreshToken: refreshed.refreshToken, email: `nell.${tag}@example.com`, password },
    otto: { id: otto.id, accessToken: created.accessToken },
  };
}

async function twoFactorStart() {
  const email = setting('EMAIL');
  const password = setting('PASSWORD');
  const tickets = new StorefrontAuthTicketApi(configuration());
  const pending = await call(tickets, 'createUserAuthTicket', { customerUserAuthInfo: { username: email, password } });
  equal(pending.requires2FA, true, 'createUserAuthTicket requires2FA');
  equal([pending.refreshToken, pending.jwtAccessToken, pending.customerAccount], [null, null, null], 'a pending login has no session');
  check(typeof pending.accessToken === 'string' && pending.accessToken.length > 20, 'a pending-login token', pending.accessToken);
  check(typeof pending.userId === 'string' && pending.userId.length > 0, 'the pending login names its user', pending.userId);
  isKiboDate(pending.accessTokenExpiration, 'pending accessTokenExpiration');

  // 2fa/request identifies the login by the token the call carries: the app's alone is not enough.
  await call(tickets, 'generateAndSend2faOtp', {}, { status: 401, errorCode: 'MISSING_PENDING_LOGIN' });
  const asPending = new StorefrontAuthTicketApi(configuration(pending.accessToken));
  const sent = await call(asPending, 'generateAndSend2faOtp', {});
  equal(sent, undefined, 'generateAndSend2faOtp answers nothing');
  // The pending token opens nothing else.
  await call(new CustomerAccountApi(configuration(pending.accessToken)), 'getCurrentAccount', {}, { status: 401, errorCode: 'INVALID_USER_TOKEN' });
  return { userId: pending.userId, pendingToken: pending.accessToken };
}

async function twoFactorFinish() {
  const code = setting('OTP_CODE');
  const userId = setting('USER_ID');
  const asPending = new StorefrontAuthTicketApi(configuration(setting('PENDING_TOKEN')));
  await call(asPending, 'validate2FAAndCreateAuthTicket', { authTicket2FAInfo: { userId, otpCode: wrongCode(code) } },
    { status: 401, errorCode: 'INVALID_2FA_CODE' });
  // The app may finish the login too, naming the user; the code is what proves it.
  const tickets = new StorefrontAuthTicketApi(configuration());
  const ticket = await call(tickets, 'validate2FAAndCreateAuthTicket', { authTicket2FAInfo: { userId, otpCode: code } });
  checkTicket(ticket, 'validate2FAAndCreateAuthTicket');
  equal(ticket.userId, userId, 'validate2FAAndCreateAuthTicket userId');
  await call(tickets, 'validate2FAAndCreateAuthTicket', { authTicket2FAInfo: { userId, otpCode: code } },
    { status: 401, errorCode: 'INVALID_2FA_CODE' });
  const refreshed = await call(tickets, 'refreshUserAuthTicket', { refreshToken: ticket.refreshToken });
  checkTicket(refreshed, 'refreshUserAuthTicket after 2FA', ticket.customerAccount.id);
  return { ticket: { accessToken: refreshed.accessToken, jwtAccessToken: ticket.jwtAccessToken, accountId: ticket.customerAccount.id } };
}

async function otpStart() {
  const tickets = new StorefrontAuthTicketApi(configuration());
  equal(await call(tickets, 'generateAndSendOtp', { otpRequest: { email: setting('EMAIL') } }), undefined, 'generateAndSendOtp answers nothing');
  // An unknown address gets the same answer.
  const nobody = `nobody.${randomBytes(4).toString('hex')}@example.com`;
  equal(await call(tickets, 'generateAndSendOtp', { otpRequest: { email: nobody } }), undefined, 'generateAndSendOtp, unknown address');
  await call(tickets, 'generateAndSendOtp', { otpRequest: {} }, { status: 400, errorCode: 'VALIDATION_FAILED' });
  return { nobody };
}

async function otpFinish() {
  const email = setting('EMAIL');
  const code = setting('OTP_CODE');
  const tickets = new StorefrontAuthTicketApi(configuration());
  await call(tickets, 'validateOtpAndCreateAuthTicket', { authTicketOtpInfo: { email, otpCode: wrongCode(code) } },
    { status: 401, errorCode: 'INVALID_OTP_CODE' });
  const ticket = await call(tickets, 'validateOtpAndCreateAuthTicket', {
    authTicketOtpInfo: { email: email.toUpperCase(), otpCode: code, fingerprint: 'sdk-device', region: 'EU' },
  });
  checkTicket(ticket, 'validateOtpAndCreateAuthTicket');
  equal(ticket.customerAccount.emailAddress, email, 'validateOtpAndCreateAuthTicket account');
  await call(tickets, 'validateOtpAndCreateAuthTicket', { authTicketOtpInfo: { email, otpCode: code } },
    { status: 401, errorCode: 'INVALID_OTP_CODE' });
  return { ticket: { accessToken: ticket.accessToken, refreshToken: ticket.refreshToken, accountId: ticket.customerAccount.id } };
}

await main({ login, '2fa-start': twoFactorStart, '2fa-finish': twoFactorFinish, 'otp-start': otpStart, 'otp-finish': otpFinish }, 'login');
