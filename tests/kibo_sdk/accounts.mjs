// Drives Gatehouse's Kibo customer-account API with Kibo's own REST SDK (npm @kibocommerce/rest-sdk).
//
//   node accounts.mjs [run]                      every CustomerAccountApi call the service serves
//   node accounts.mjs update-forgotten-password  one call: set a new password with a mailed reset code
//
// Settings come from the environment, or from --name=value arguments that override it (harness.mjs):
//   KIBO_API_HOST (--api-host)          the service's base URL, e.g. http://127.0.0.1:8080
//   KIBO_TENANT_ID (--tenant-id)        the application's tenant
//   KIBO_SITE_ID (--site-id)            a site of that tenant (sent as x-vol-site)
//   KIBO_ACCESS_TOKEN (--access-token)  an application access token (the SDK sends `Authorization: Bearer`)
// update-forgotten-password also needs KIBO_USER_NAME, KIBO_CONFIRMATION_CODE and KIBO_NEW_PASSWORD.
//
// Prints one JSON summary on stdout; any failed call or check prints {"ok": false, ...} and exits 1.

import { randomBytes } from 'node:crypto';
import { CustomerAccountApi } from '@kibocommerce/rest-sdk/clients/Customer/index.js';
import { call, check, configuration, equal, isKiboDate, main, setting } from './harness.mjs';

function makeApi() {
  return new CustomerAccountApi(configuration());
}

async function run() {
  const api = makeApi();
  const tag = `sdk${randomBytes(4).toString('hex')}`;
  const emailOf = (name) => `${name.toLowerCase()}.${tag}@example.com`;

  // --- accounts ------------------------------------------------------------------------------------
  const ada = await call(api, 'addAccount', {
    customerAccount: {
      emailAddress: emailOf('Ada'), firstName: 'Ada', lastName: tag, externalId: `${tag}-ada`, acceptsMarketing: true,
      contacts: [{ firstName: 'Ada', types: [{ name: 'Billing', isPrimary: true }], address: { cityOrTown: 'London', countryCode: 'GB' } }],
    },
  });
  check(Number.isInteger(ada.id) && ada.id > 0, 'addAccount returns a numeric id', ada.id);
  equal(ada.emailAddress, emailOf('Ada'), 'addAccount emailAddress');
  equal([ada.firstName, ada.lastName, ada.externalId, ada.acceptsMarketing], ['Ada', tag, `${tag}-ada`, true], 'addAccount fields');
  equal([ada.isActive, ada.isLocked, ada.customerSet], [true, false, 'default'], 'addAccount defaults');
  isKiboDate(ada.auditInfo?.createDate, 'auditInfo.createDate');
  isKiboDate(ada.customerSinceDate, 'customerSinceDate');
  equal(ada.contacts?.[0]?.address?.cityOrTown, 'London', 'addAccount contact');

  const others = {};
  for (const name of ['Bert', 'Cleo']) {
    others[name] = await call(api, 'addAccount', {
      customerAccount: { emailAddress: emailOf(name), firstName: name, lastName: tag, externalId: `${tag}-${name.toLowerCase()}` },
    });
    check(Number.isInteger(others[name].id) && others[name].id !== ada.id, `addAccount ${name} has its own id`, others[name].id);
  }

  const fetched = await call(api, 'getAccount', { accountId: ada.id, responseGroups: 'Contacts' });
  equal([fetched.id, fetched.emailAddress, fetched.firstName], [ada.id, emailOf('Ada'), 'Ada'], 'getAccount');
  equal(fetched.contacts.length, 1, 'getAccount with responseGroups=Contacts returns the contact');
  const trimmed = await call(api, 'getAccount', { accountId: ada.id, responseFields: 'id,emailAddress' });
  equal(trimmed, { id: ada.id, emailAddress: emailOf('Ada') }, 'getAccount with responseFields');

  const page = await call(api, 'getAccounts', { filter: `lastName eq '${tag}'`, startIndex: 1, pageSize: 2, sortBy: 'firstName asc' });
  equal([page.startIndex, page.pageSize, page.pageCount, page.totalCount], [1, 2, 2, 3], 'getAccounts paging');
  equal(page.items.map((a) => a.firstName), ['Bert', 'Cleo'], 'getAccounts page items');
  const descending = await call(api, 'getAccounts', { filter: `lastName eq '${tag}' and firstName ne 'Bert'`, sortBy: 'firstName desc' });
  equal(descending.items.map((a) => a.firstName), ['Cleo', 'Ada'], 'getAccounts filter and sortBy desc');
  const byEmail = await call(api, 'getAccounts', { filter: `emailAddress eq '${emailOf('Cleo')}'` });
  equal([byEmail.totalCount, byEmail.items[0]?.id], [1, others.Cleo.id], 'getAccounts by emailAddress');
  // q with the other documented list parameters Kibo clients send (qLimit, isAnonymous).
  const quick = await call(api, 'getAccounts', { q: tag, qLimit: 10, isAnonymous: false, pageSize: 200, sortBy: 'firstName' });
  equal(quick.items.map((a) => a.firstName), ['Ada', 'Bert', 'Cleo'], 'getAccounts q');
  await call(api, 'getAccounts', { filter: 'shoeSize eq 4' }, { status: 400, errorCode: 'INVALID_FILTER' });

  // The SDK's usual update: read the whole account, change fields, send it all back.
  const updated = await call(api, 'updateAccount', {
    accountId: ada.id,
    customerAccount: { ...fetched, firstName: 'Augusta', companyOrOrganization: 'Analytical Engines Ltd', taxExempt: true },
  });
  equal([updated.id, updated.firstName, updated.lastName, updated.companyOrOrganization, updated.taxExempt],
    [ada.id, 'Augusta', tag, 'Analytical Engines Ltd', true], 'updateAccount');
  isKiboDate(updated.auditInfo?.updateDate, 'auditInfo.updateDate');
  equal((await call(api, 'getAccount', { accountId: ada.id })).firstName, 'Augusta', 'getAccount after updateAccount');

  // --- contacts ------------------------------------------------------------------------------------
  const home = await call(api, 'addAccountContact', {
    accountId: ada.id,
    customerContact: {
      firstName: 'Ada', lastNameOrSurname: 'Lovelace', email: emailOf('Ada'), label: 'home',
      types: [{ name: 'Shipping', isPrimary: true }], phoneNumbers: { mobile: '+44 20 7946 0000' },
      address: { address1: '12 St James Square', cityOrTown: 'London', postalOrZipCode: 'SW1Y 4JH', countryCode: 'GB' },
    },
  });
  check(Number.isInteger(home.id), 'addAccountContact returns an id', home.id);
  equal([home.accountId, home.label, home.address?.address1], [ada.id, 'home', '12 St James Square'], 'addAccountContact');

  const list = await call(api, 'addAccountContactList', {
    accountId: ada.id,
    customerContact: [
      { firstName: 'Bob', types: [{ name: 'Billing', isPrimary: false }], address: { cityOrTown: 'Leeds', countryCode: 'GB' } },
      { firstName: 'Cy', types: [{ name: 'Shipping', isPrimary: false }], address: { cityOrTown: 'York', countryCode: 'GB' } },
    ],
  });
  equal([list.totalCount, list.items.map((c) => c.firstName)], [2, ['Bob', 'Cy']], 'addAccountContactList');
  const cy = list.items[1];

  const contacts = await call(api, 'getAccountContacts', { accountId: ada.id, startIndex: 0, pageSize: 50 });
  equal(contacts.totalCount, 4, 'getAccountContacts totalCount (one from addAccount, one added, two in a list)');
  check(contacts.items.some((c) => c.id === home.id) && contacts.items.some((c) => c.id === cy.id), 'getAccountContacts items', contacts.items.map((c) => c.id));
  const firstPage = await call(api, 'getAccountContacts', { accountId: ada.id, startIndex: 0, pageSize: 3 });
  equal([firstPage.items.length, firstPage.pageCount, firstPage.totalCount], [3, 2, 4], 'getAccountContacts paging');

  const got = await call(api, 'getAccountContact', { accountId: ada.id, contactId: home.id });
  equal([got.id, got.firstName, got.phoneNumbers?.mobile], [home.id, 'Ada', '+44 20 7946 0000'], 'getAccountContact');

  const newContact = {
    ...got,
    label: 'office', firstName: 'Augusta Ada', companyOrOrganization: 'Analytical Engines Ltd',
    phoneNumbers: { work: '+44 20 7946 0999' }, types: [{ name: 'Billing', isPrimary: true }],
    address: { address1: '1 Babbage Row', cityOrTown: 'Cambridge', postalOrZipCode: 'CB2 1TN', countryCode: 'GB' },
  };
  const changed = await call(api, 'updateAccountContact', { accountId: ada.id, contactId: home.id, customerContact: newContact });
  equal([changed.id, changed.label, changed.firstName, changed.address?.cityOrTown, changed.phoneNumbers?.work, changed.phoneNumbers?.mobile],
    [home.id, 'office', 'Augusta Ada', 'Cambridge', '+44 20 7946 0999', null], 'updateAccountContact');
  equal(changed.types, [{ name: 'Billing', isPrimary: true }], 'updateAccountContact types');

  await call(api, 'deleteAccountContact', { accountId: ada.id, contactId: cy.id });
  await call(api, 'getAccountContact', { accountId: ada.id, contactId: cy.id }, { status: 404, errorCode: 'CONTACT_NOT_FOUND' });
  equal((await call(api, 'getAccountContacts', { accountId: ada.id })).totalCount, 3, 'getAccountContacts after deleteAccountContact');

  // --- a login: Bulk create, lock, passwords, login state -----------------------------------------
  const userName = `grace.${tag}`;
  const firstPassword = `first sdk password ${tag}`;
  const secondPassword = `second sdk password ${tag}`;
  const bulk = await call(api, 'addAccounts', {
    customerAccountAndAuthInfo: [{ account: { emailAddress: emailOf('Grace'), userName, firstName: 'Grace', lastName: tag }, password: firstPassword }],
  });
  equal(bulk.totalCount, 1, 'addAccounts totalCount');
  const grace = bulk.items[0];
  check(Number.isInteger(grace.id) && typeof grace.userId === 'string' && grace.userId.length > 0, 'addAccounts account has an id and a userId', grace);
  equal([grace.emailAddress, grace.userName], [emailOf('Grace'), userName], 'addAccounts login names');

  const initial = await call(api, 'getLoginState', { accountId: grace.id, userId: grace.userId });
  equal([initial.isLocked, initial.isPasswordChangeRequired, initial.failedLoginAttemptCount], [false, false, 0], 'getLoginState at start');
  check(Number.isInteger(initial.remainingLoginAttempts) && initial.remainingLoginAttempts > 0, 'remainingLoginAttempts', initial.remainingLoginAttempts);
  isKiboDate(initial.createdOn, 'loginState.createdOn');

  await call(api, 'setLoginLocked', { accountId: grace.id, body: true });
  const locked = await call(api, 'getLoginState', { accountId: grace.id });
  equal(locked.isLocked, true, 'getLoginState after setLoginLocked(true)');
  isKiboDate(locked.lastLockedOn, 'loginState.lastLockedOn');
  equal((await call(api, 'getAccount', { accountId: grace.id })).isLocked, true, 'getAccount isLocked after setLoginLocked(true)');

  await call(api, 'changePassword', { accountId: grace.id, customerPasswordInfo: { oldPassword: 'not the password', newPassword: secondPassword } },
    { status: 400, errorCode: 'INVALID_OLD_PASSWORD' });
  await call(api, 'changePassword', { accountId: grace.id, unlockAccount: true, customerPasswordInfo: { oldPassword: firstPassword, newPassword: secondPassword } });
  const afterChange = await call(api, 'getLoginStateByEmailAddress', { emailAddress: emailOf('Grace').toUpperCase() });
  equal(afterChange.isLocked, false, 'changePassword with unlockAccount=true unlocks');
  isKiboDate(afterChange.lastPasswordChangeOn, 'loginState.lastPasswordChangeOn');

  await call(api, 'setLoginLocked', { accountId: grace.id, body: true });
  await call(api, 'setLoginLocked', { accountId: grace.id, body: false });
  equal((await call(api, 'getLoginState', { accountId: grace.id })).isLocked, false, 'setLoginLocked(false) unlocks');

  await call(api, 'setPasswordChangeRequired', { accountId: grace.id, userId: grace.userId, body: true });
  const byUserName = await call(api, 'getLoginStateByUserName', { userName, customerSetCode: 'default' });
  equal([byUserName.isPasswordChangeRequired, byUserName.isLocked], [true, false], 'getLoginStateByUserName after setPasswordChangeRequired(true)');
  await call(api, 'getLoginStateByUserName', { userName: `ghost.${tag}` }, { status: 404, errorCode: 'ACCOUNT_NOT_FOUND' });
  await call(api, 'getLoginState', { accountId: ada.id }, { status: 404, errorCode: 'LOGIN_NOT_FOUND' });

  await call(api, 'resetPassword', { customerResetPasswordInfo: { emailAddress: emailOf('Grace') } });
  await call(api, 'resetPassword', { customerResetPasswordInfo: { emailAddress: emailOf('Nobody') } });

  // --- delete --------------------------------------------------------------------------------------
  await call(api, 'deleteAccount', { accountId: others.Bert.id });
  await call(api, 'getAccount', { accountId: others.Bert.id }, { status: 404, errorCode: 'ACCOUNT_NOT_FOUND' });
  const remaining = await call(api, 'getAccounts', { filter: `lastName eq '${tag}'`, sortBy: 'firstName' });
  equal(remaining.items.map((a) => a.firstName), ['Augusta', 'Cleo', 'Grace'], 'getAccounts after deleteAccount');

  return {
    tag,
    account: { id: ada.id, emailAddress: emailOf('Ada') },
    updatedContact: { id: home.id, label: 'office', firstName: 'Augusta Ada', cityOrTown: 'Cambridge', work: '+44 20 7946 0999' },
    deletedContactId: cy.id,
    deletedAccountId: others.Bert.id,
    login: { id: grace.id, emailAddress: emailOf('Grace'), userName, password: secondPassword },
  };
}

async function updateForgottenPassword() {
  const api = makeApi();
  const confirmationInfo = { userName: setting('USER_NAME'), confirmationCode: setting('CONFIRMATION_CODE'), newPassword: setting('NEW_PASSWORD') };
  await call(api, 'updateForgottenPassword', { confirmationInfo: { ...confirmationInfo, confirmationCode: 'a wrong code' } },
    { status: 400, errorCode: 'INVALID_CONFIRMATION_CODE' });
  await call(api, 'updateForgottenPassword', { confirmationInfo });
  return {};
}

await main({ run, 'update-forgotten-password': updateForgottenPassword }, 'run');
