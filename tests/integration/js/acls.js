// kafkajs 2.2.4 admin ACL API against straitd (run by test_acls_api.sh):
//
//   acls.js BROKER
//       over PLAINTEXT as User:ANONYMOUS (a super user in that test): creates two ACLs for
//       User:kjs (ALLOW READ on LITERAL topic kjs.orders, DENY WRITE on PREFIXED kjs.),
//       describes them back with a principal filter and with a MATCH filter on
//       kjs.orders, checks an ACL made by librdkafka (User:alice) is visible, deletes the
//       User:kjs ones and checks they are gone. Prints "ok: ..." lines; exits 1 on the
//       first mismatch.
'use strict';

const {
  Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes,
} = require('kafkajs');

function fail(msg) {
  console.error(`acls.js: FAIL: ${msg}`);
  process.exit(1);
}

function count(described) {
  return described.resources.reduce((n, r) => n + r.acls.length, 0);
}

async function main() {
  const broker = process.argv[2];
  if (!broker) fail('usage: acls.js BROKER');
  const kafka = new Kafka({ clientId: 'strait-kafkajs-acls', brokers: [broker], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const kjs = [
    {
      resourceType: AclResourceTypes.TOPIC, resourceName: 'kjs.orders',
      resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:kjs', host: '*',
      operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW,
    },
    {
      resourceType: AclResourceTypes.TOPIC, resourceName: 'kjs.',
      resourcePatternType: ResourcePatternTypes.PREFIXED, principal: 'User:kjs', host: '*',
      operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.DENY,
    },
  ];
  await admin.createAcls({ acl: kjs });
  console.log('ok: createAcls accepted 2 bindings');

  const byPrincipal = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY,
    principal: 'User:kjs', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
  });
  if (count(byPrincipal) !== 2) fail(`describeAcls principal User:kjs: ${count(byPrincipal)} bindings, expected 2`);
  const deny = byPrincipal.resources.find((r) => r.resourcePatternType === ResourcePatternTypes.PREFIXED);
  if (!deny || deny.resourceName !== 'kjs.' || deny.acls[0].permissionType !== AclPermissionTypes.DENY ||
      deny.acls[0].operation !== AclOperationTypes.WRITE) {
    fail(`describeAcls: the PREFIXED DENY WRITE on kjs. is missing or wrong: ${JSON.stringify(byPrincipal)}`);
  }
  console.log('ok: describeAcls by principal returns both, with pattern, operation and permission');

  const match = await admin.describeAcls({
    resourceType: AclResourceTypes.TOPIC, resourceName: 'kjs.orders',
    resourcePatternType: ResourcePatternTypes.MATCH, operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  if (count(match) !== 2) fail(`describeAcls MATCH kjs.orders: ${count(match)} bindings, expected 2 (literal + prefix)`);
  console.log('ok: describeAcls MATCH on kjs.orders finds the literal and the prefixed binding');

  const alice = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY,
    principal: 'User:alice', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
  });
  if (count(alice) < 1) fail('describeAcls: the User:alice binding made with librdkafka is not visible to kafkajs');
  console.log(`ok: kafkajs sees ${count(alice)} binding(s) of User:alice made with librdkafka`);

  const del = await admin.deleteAcls({
    filters: [{
      resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY,
      principal: 'User:kjs', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
    }],
  });
  const removed = del.filterResponses[0];
  if (removed.errorCode !== 0 || removed.matchingAcls.length !== 2) {
    fail(`deleteAcls: ${JSON.stringify(removed)}, expected 2 removed`);
  }
  const after = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY,
    principal: 'User:kjs', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
  });
  if (count(after) !== 0) fail(`after deleteAcls ${count(after)} User:kjs bindings remain`);
  console.log('ok: deleteAcls removed both; describeAcls finds none');
  await admin.disconnect();
}

main().catch((e) => fail(`${e.name}: ${e.message}`));
