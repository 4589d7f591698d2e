#!/usr/bin/env python3
"""Seeds a moto server with AWS resources for the `charterguard audit aws` tests and prints,
as JSON on standard output, what the audit must find there: the test's oracle.

    aws_seed.py charter [--tfstate PATH]   compliant and violating resources for every rule
                                           whose sources include `aws`, in two accounts and
                                           three regions; with --tfstate, also a Terraform
                                           state (format 4) managing some of them (ENV-003)
    aws_seed.py buckets N                  N plain buckets in ap-south-1 (the scale test)
    aws_seed.py secrets PLANTED.json       resources carrying the secrets a test plants
                                           (tests/it/secrets.rs); prints their ARNs
    aws_seed.py org N                      an AWS Organization of account A and N members in
                                           nested OUs, every fifth closed, each account with a
                                           bucket without encryption (see `org`)
    aws_seed.py environments               production and staging accounts that mirror each
                                           other but for planted differences (ENV-004)
    aws_seed.py isolation                  policies and network connections of account A that
                                           reach a staging account, an outside account and A
                                           itself (ENV-005; see `isolation`)

The endpoint is AWS_ENDPOINT_URL (moto itself, not the fault proxy: seeding must not trip the
faults a test configures), except for AWS Backup selections, which moto does not implement and
the proxy keeps: those go to CG_AWS_PROXY_URL. Credentials are the static test ones the harness
sets.

Output of `charter`:
    {"accounts": [{"id", "role_arn", "regions"}],
     "expect":    [{"rule", "arn", "why"}],      findings the audit must report
     "compliant": [{"arn", "rules": [...]}],     rules that must report nothing on the resource
     "unrepresentable": [{"what", "why"}],       what moto cannot hold, so is not seeded
     "quirks":    [...],                         moto behaviours the seed works around
     "tfstate": PATH or null, "readback_checks": int, "seconds": float}
`expect` is what must be found, not everything that will be (the default VPCs' subnets, the
copy-only bucket cg-silver-dst-004-copy and, with --tfstate, every unmanaged resource also
fail rules). ENV-003 expectations appear only with --tfstate (without a state the audit cannot
decide ENV-003).

Output of `buckets N`: {"accounts": [...], "buckets": N, "seconds": float}.

Every ARN is the address the audit gives the resource (src/aws): buckets `arn:aws:s3:::NAME`
(their replication `...#replication`), EC2 `arn:aws:ec2:REGION:ACCOUNT:TYPE/ID`, log groups
`arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, ECR registries `arn:aws:ecr:REGION:ACCOUNT:registry`
(`#replication`, `#scanning`), everything else the ARN its describe call returns.

After seeding, every resource is read back with the calls the audit makes (`readback`), and
the values each expectation depends on are asserted: a seed moto silently changed fails here,
with the value it read, instead of making the Rust test's oracle wrong.

Only the standard library and the pinned boto3 / cryptography (tests/it/peers/mod.rs) are used.
"""

import concurrent.futures
import datetime
import json
import os
import re
import sys
import threading
import time
import urllib.parse

import boto3
from botocore.config import Config

ACCOUNT_A = "123456789012"  # moto's default account: the static test credentials land here
ACCOUNT_B = "111111111111"  # reached with STS AssumeRole of a role in it (moto keeps one state per account)
PRIMARY = "ap-south-1"
DR = "ap-south-2"
FOREIGN = "us-east-1"
ROLE_NAME = "charterguard-audit"

QUIRKS = [
    "Object Lock: GetObjectLockConfiguration answers Days: 0 beside Years (the audit reads both; "
    "DATA-001 passes on years >= 7 whatever days says, so the seeds use Years)",
    "ACM: request_certificate ignores KeyAlgorithm and yields RSA_2048, so every certificate is "
    "imported (generated here with cryptography); moto reads the real key algorithm and NotAfter",
    "S3: a bucket without an encryption configuration answers 404 "
    "ServerSideEncryptionConfigurationNotFoundError (real S3 answers the SSE-S3 default); either "
    "way ENC-001 fails, so the expectation holds against both",
    "S3 ListBuckets carries no BucketRegion: the audit falls back to one GetBucketLocation per bucket",
    "S3 Control: the SDKs put the account id in the host name (123456789012.HOST), which must "
    "resolve to the endpoint (the audit's resolver does; boto3 here rewrites the URL before "
    "sending: inject_host_prefix=False does not help, the prefix comes from the endpoint rules); "
    "moto 5.2.5 answers the prefixed host itself, the fault proxy strips the label anyway",
    "EKS: DescribeNodegroup answers version 1.19 whatever was asked (the audit does not read it)",
    "ElastiCache: CreateReplicationGroup lists member clusters but creates none, so "
    "DescribeCacheClusters (where the audit reads engine_version and the subnet group) has nothing "
    "for the group; the seed adds the member with CreateCacheCluster(ReplicationGroupId=...), the "
    "real API for adding a node to a group",
    "Secrets Manager: RotateSecret accepts RotationRules without a rotation Lambda (real AWS "
    "requires one or managed rotation); moto invokes a given Lambda, which needs Docker, so the "
    "seed rotates without one",
    "KMS: once a replica of a multi-region key is described, moto answers DescribeKey of the "
    "primary with MultiRegionKeyType REPLICA too (the replicas share its configuration dict); "
    "the fault proxy answers PRIMARY for a key that is its own primary, so the audit sees what "
    "KMS says (straight from moto the primary would be typed aws_kms_replica_key)",
    "RDS: a default parameter group (default.postgres15) lists no rds.force_ssl parameter "
    "(AWS lists it, 0 for PostgreSQL 15): TLS-005 fails either way",
    "EC2 DescribeRegions: moto hard-codes ap-south-2 as not-opted-in (no way to opt in) and "
    "lists the cn-* and us-gov-* regions as enabled; the fault proxy answers as a real account "
    "of the aws partition with ap-south-2 enabled (settable per test)",
    "Kafka: ListClustersV2 writes creationTime without a UTC offset (2026-12-02T18:33:24.427369), "
    "which the Rust SDK rejects, failing the whole call; the fault proxy appends Z to such JSON "
    "timestamps (moto's clock is UTC). Every other answer the audit reads was scanned: XML "
    "timestamps end in Z, JSON ones are epoch numbers",
    "Kafka: ListReplicators is not implemented (404 HTML); the fault proxy answers it with an "
    "empty list",
    "STS: AssumeRole of any role ARN succeeds (the role need not exist); the assumed credentials "
    "act in the role's account",
]

UNREPRESENTABLE = [
    {"what": "ENC-004 compliant case: a signing key in a CloudHSM custom key store",
     "why": "moto has no CloudHSM clusters, so CreateCustomKeyStore cannot be connected; only the violation (a SIGN_VERIFY key without a key store) is seeded"},
    {"what": "RES-003: aws_db_instance_automated_backups_replication",
     "why": "moto does not implement StartDBInstanceAutomatedBackupsReplication"},
    {"what": "RES-003: aws_msk_replicator",
     "why": "moto does not implement Kafka replicators (CreateReplicator); the proxy answers ListReplicators with none"},
    {"what": "EKS add-ons and access entries, CloudWatch Logs AssociateKmsKey",
     "why": "not implemented by moto (HTML 404/500); the audit does not call them, keys are set at CreateLogGroup"},
    {"what": "BAK-002 recovery window",
     "why": "a live secret has no recovery window (it is chosen at deletion), so the audit never sets it; nothing to seed"},
    {"what": "aws_rds_cluster (Aurora) for BAK-001/ENC-005",
     "why": "not seeded to keep the scenario small; DB instances cover both rules"},
]


def endpoint():
    url = os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        sys.exit("aws_seed.py: AWS_ENDPOINT_URL (the moto server) is not set")
    return url


CONFIG = Config(
    # Path-style works with a loopback endpoint; no host prefixes (S3 Control), which would
    # need a DNS name per account; one attempt, so a moto error surfaces at once.
    s3={"addressing_style": "path"},
    inject_host_prefix=False,
    retries={"max_attempts": 1, "mode": "standard"},
)


def strip_account_label(request, **_):
    """S3 Control's endpoint rules put the account id in front of the host
    (`123456789012.127.0.0.1`), which does not resolve: send it to the endpoint itself (moto
    reads the account from the x-amz-account-id header; it does not check signatures)."""
    request.url = re.sub(r"^(https?://)\d{12}\.", r"\1", request.url)


class Account:
    """Clients for one account (static credentials, or an assumed role's)."""

    def __init__(self, account_id, session, credentials=None):
        self.id = account_id
        self.session = session
        # An assumed role's keys; clients take them explicitly, so every account shares one
        # session (a new session reads the service models from disk again, 0.3 s a client).
        self.credentials = credentials or {}
        self._clients = {}

    def client(self, service, region=PRIMARY):
        key = (service, region)
        if key not in self._clients:
            client = self.session.client(service, region_name=region, endpoint_url=endpoint(), config=CONFIG, **self.credentials)
            if service == "s3control":
                client.meta.events.register("before-send.s3-control", strip_account_label)
            self._clients[key] = client
        return self._clients[key]

    def arn(self, service, region, resource):
        return f"arn:aws:{service}:{region}:{self.id}:{resource}"


def account_a():
    return Account(ACCOUNT_A, boto3.session.Session())


def assumed(a, account_id):
    """Account `account_id` through STS AssumeRole of the audit's role there (as the audit's
    --role-arn and --org reach it)."""
    answer = a.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE_NAME}", RoleSessionName="charterguard-seed")
    c = answer["Credentials"]
    credentials = {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"], "aws_session_token": c["SessionToken"]}
    return Account(account_id, a.session, credentials)


def account_b(a):
    """Account B through STS AssumeRole, as the audit's --role-arn reaches it."""
    b = assumed(a, ACCOUNT_B)
    who = b.client("sts").get_caller_identity()["Account"]
    if who != ACCOUNT_B:
        raise SystemExit(f"assumed role answers account {who}, not {ACCOUNT_B}: moto's multi-account support changed")
    return b


class Oracle:
    """What the audit must report (expect) and must not (compliant)."""

    def __init__(self):
        self.expect = []
        self.compliant = {}
        self.checks = []  # (description, actual, wanted) read back from moto

    def fails(self, arn, rules, why):
        for rule in rules.split():
            self.expect.append({"rule": rule, "arn": arn, "why": why})

    def passes(self, arn, rules):
        self.compliant.setdefault(arn, [])
        for rule in rules.split():
            if rule not in self.compliant[arn]:
                self.compliant[arn].append(rule)

    def must(self, what, actual, wanted):
        """Records a read-back value; `finish` fails the seed when any differs."""
        self.checks.append((what, actual, wanted))

    def finish(self):
        wrong = [(w, a, x) for (w, a, x) in self.checks if a != x]
        if wrong:
            lines = "\n".join(f"  {w}: read {a!r}, the oracle assumes {x!r}" for (w, a, x) in wrong)
            raise SystemExit(f"aws_seed.py: moto does not read back what was seeded:\n{lines}")
        clash = [e for e in self.expect if e["rule"] in self.compliant.get(e["arn"], [])]
        if clash:
            raise SystemExit(f"aws_seed.py: resources both expected to fail and to pass a rule: {clash}")


# ---------------------------------------------------------------------------------------------
# KMS


def kms_key(acct, region, description, rotation=True, tags=None, **create):
    kms = acct.client("kms", region)
    meta = kms.create_key(Description=description, Tags=[{"TagKey": k, "TagValue": v} for k, v in (tags or {}).items()], **create)["KeyMetadata"]
    if rotation:
        kms.enable_key_rotation(KeyId=meta["KeyId"])
    return meta


def seed_kms(a, o):
    """Customer keys: one per distributor, one shared by two distributors (ENC-002), one that
    does not rotate (ENC-003), a signing key without HSM (ENC-004), a multi-region key with
    replicas in ap-south-2 (allowed) and us-east-1 (RES-001, RES-003), a key in us-east-1."""
    keys = {}
    for name in ["dst-001", "dst-002", "shared", "rds", "cache", "msk", "logs", "secrets", "eks", "ebs"]:
        keys[name] = kms_key(a, PRIMARY, f"charterguard {name}", tags={"purpose": name})
        o.passes(keys[name]["Arn"], "ENC-003 RES-001")
    keys["dr"] = kms_key(a, DR, "charterguard dr (ap-south-2)")
    o.passes(keys["dr"]["Arn"], "ENC-003 RES-001")

    keys["norotate"] = kms_key(a, PRIMARY, "charterguard no rotation", rotation=False)
    o.fails(keys["norotate"]["Arn"], "ENC-003", "symmetric customer key with rotation off")

    keys["sign"] = kms_key(a, PRIMARY, "charterguard api signing", rotation=False, KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")
    o.fails(keys["sign"]["Arn"], "ENC-004", "SIGN_VERIFY key with AWS_KMS origin, no custom key store (not HSM-backed)")
    o.passes(keys["sign"]["Arn"], "RES-001")  # ENC-003 does not apply to asymmetric keys

    keys["mrk"] = kms_key(a, PRIMARY, "charterguard multi-region", MultiRegion=True)
    o.passes(keys["mrk"]["Arn"], "ENC-003 RES-001 RES-003")
    kms = a.client("kms", PRIMARY)
    replica_dr = kms.replicate_key(KeyId=keys["mrk"]["KeyId"], ReplicaRegion=DR)["ReplicaKeyMetadata"]
    replica_us = kms.replicate_key(KeyId=keys["mrk"]["KeyId"], ReplicaRegion=FOREIGN)["ReplicaKeyMetadata"]
    o.passes(replica_dr["Arn"], "RES-001 RES-003")
    o.fails(replica_us["Arn"], "RES-001", "KMS replica key found in us-east-1")
    o.fails(replica_us["Arn"], "RES-003", "multi-region replica (a copy of key material) in us-east-1")
    keys["replica_dr"], keys["replica_us"] = replica_dr, replica_us

    keys["us"] = kms_key(a, FOREIGN, "charterguard key in us-east-1")
    o.fails(keys["us"]["Arn"], "RES-001", "customer key in us-east-1")
    o.passes(keys["us"]["Arn"], "ENC-003")
    return keys


def readback_kms(a, o, keys):
    for name, meta in keys.items():
        region = meta["Arn"].split(":")[3]
        kms = a.client("kms", region)
        listed = [k["KeyId"] for page in kms.get_paginator("list_keys").paginate() for k in page["Keys"]]
        o.must(f"kms {name} listed in {region}", meta["KeyId"] in listed, True)
        d = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
        o.must(f"kms {name} KeyManager", d.get("KeyManager"), "CUSTOMER")
        o.must(f"kms {name} Arn", d.get("Arn"), meta["Arn"])
        # Whether a key is a replica: its primary is another key (moto's MultiRegionKeyType
        # is unreliable for primaries, see QUIRKS; the proxy corrects it from this).
        primary = d.get("MultiRegionConfiguration", {}).get("PrimaryKey", {}).get("Arn")
        replica = primary is not None and primary != d.get("Arn")
        o.must(f"kms {name} is a replica", replica, name.startswith("replica"))
        if replica:
            o.must(f"kms {name} primary", primary, keys["mrk"]["Arn"])
            o.must(f"kms {name} MultiRegionKeyType", d["MultiRegionConfiguration"].get("MultiRegionKeyType"), "REPLICA")
        if d.get("KeySpec") == "SYMMETRIC_DEFAULT" and not replica:
            rotating = kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"]
            o.must(f"kms {name} rotation", rotating, name != "norotate")
        if name == "sign":
            o.must("kms sign KeyUsage", d.get("KeyUsage"), "SIGN_VERIFY")
            o.must("kms sign CustomKeyStoreId", d.get("CustomKeyStoreId"), None)
            o.must("kms sign Origin", d.get("Origin"), "AWS_KMS")


# ---------------------------------------------------------------------------------------------
# S3

DENY_INSECURE = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
FULL_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def bucket(acct, region, name, tags=None, lock=False):
    s3 = acct.client("s3", region)
    args = {"Bucket": name}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    if lock:
        args["ObjectLockEnabledForBucket"] = True
    s3.create_bucket(**args)
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    return f"arn:aws:s3:::{name}"


def sse(acct, region, name, algorithm, key=None):
    default = {"SSEAlgorithm": algorithm}
    if key:
        default["KMSMasterKeyID"] = key
    acct.client("s3", region).put_bucket_encryption(
        Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": algorithm == "aws:kms"}]}
    )


def lock(acct, region, name, mode, years):
    acct.client("s3", region).put_object_lock_configuration(
        Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Years": years}}}
    )


def versioning(acct, region, name):
    acct.client("s3", region).put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def block(acct, region, name, config=FULL_BLOCK):
    acct.client("s3", region).put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=config)


def policy(acct, region, name, statements):
    document = {"Version": "2012-10-17", "Statement": statements}
    acct.client("s3", region).put_bucket_policy(Bucket=name, Policy=json.dumps(document))


def lifecycle(acct, region, name, transition_days=None, storage_class="GLACIER", expiration_days=None):
    rule = {"ID": "layer", "Status": "Enabled", "Filter": {"Prefix": ""}}
    if transition_days:
        rule["Transitions"] = [{"Days": transition_days, "StorageClass": storage_class}]
    if expiration_days:
        rule["Expiration"] = {"Days": expiration_days}
    acct.client("s3", region).put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [rule]})


def replicate(acct, region, name, destination):
    acct.client("s3", region).put_bucket_replication(
        Bucket=name,
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{acct.id}:role/s3-replication",
            "Rules": [{"ID": "dr", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
                       "DeleteMarkerReplication": {"Status": "Disabled"},
                       "Destination": {"Bucket": f"arn:aws:s3:::{destination}"}}],
        },
    )


def seed_s3(a, b, o, keys, b_key):
    """Buckets of every layer, right and wrong. Account A's account-level public access block
    sets only BlockPublicAcls, so a bucket without its own full block fails DATA-003; account
    B's blocks everything, so B's bucket passes without its own (the audit ORs the two)."""
    a.client("s3control").put_public_access_block(AccountId=a.id, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    b.client("s3control").put_public_access_block(AccountId=b.id, PublicAccessBlockConfiguration=FULL_BLOCK)
    deny = lambda name: [DENY_INSECURE | {"Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]}]  # noqa: E731
    k = {n: keys[n]["Arn"] for n in keys}

    # Bronze, distributor dst-001: everything right.
    n = "cg-bronze-dst-001"
    arn = bucket(a, PRIMARY, n, {"layer": "bronze", "distributor": "dst-001"}, lock=True)
    sse(a, PRIMARY, n, "aws:kms", k["dst-001"])
    lock(a, PRIMARY, n, "COMPLIANCE", 7)
    block(a, PRIMARY, n)
    lifecycle(a, PRIMARY, n, transition_days=730, storage_class="GLACIER")
    policy(a, PRIMARY, n, deny(n))
    o.passes(arn, "ENC-001 ENC-002 DATA-001 DATA-002 DATA-003 DATA-004 TLS-005 RES-001 RES-003 RES-004")

    # Bronze, dst-002: GOVERNANCE lock, no lifecycle, no policy, only the account's partial block.
    n = "cg-bronze-dst-002"
    arn = bucket(a, PRIMARY, n, {"layer": "bronze", "distributor": "dst-002"}, lock=True)
    sse(a, PRIMARY, n, "aws:kms", keys["dst-002"]["KeyId"])  # by key id: the audit names it by ARN
    lock(a, PRIMARY, n, "GOVERNANCE", 7)
    o.fails(arn, "DATA-001", "Object Lock default retention mode GOVERNANCE, not COMPLIANCE")
    o.fails(arn, "DATA-004", "bronze bucket without a lifecycle rule archiving to Glacier after 730 days")
    o.fails(arn, "TLS-005", "bronze bucket without a bucket policy")
    o.fails(arn, "DATA-003", "no bucket block; the account block sets only BlockPublicAcls")
    o.passes(arn, "ENC-001 ENC-002 DATA-002 RES-001 RES-004")

    # Audit layer: COMPLIANCE but 1 year, SSE-S3.
    n = "cg-audit-logs"
    arn = bucket(a, PRIMARY, n, {"layer": "audit"}, lock=True)
    sse(a, PRIMARY, n, "AES256")
    lock(a, PRIMARY, n, "COMPLIANCE", 1)
    block(a, PRIMARY, n)
    policy(a, PRIMARY, n, deny(n))
    o.fails(arn, "DATA-001", "Object Lock COMPLIANCE for 1 year, less than 7")
    o.fails(arn, "ENC-001", "default encryption AES256 (SSE-S3)")
    o.passes(arn, "DATA-002 DATA-003 TLS-005 RES-001 RES-004")

    # Bronze by tag, no lock, no versioning, aws:kms with the AWS-managed key, short lifecycle.
    n = "cg-bronze-nolock"
    arn = bucket(a, PRIMARY, n, {"layer": "bronze"})
    sse(a, PRIMARY, n, "aws:kms", "alias/aws/s3")
    block(a, PRIMARY, n)
    lifecycle(a, PRIMARY, n, transition_days=365, storage_class="GLACIER")
    policy(a, PRIMARY, n, deny(n))
    o.fails(arn, "DATA-001", "bronze bucket without Object Lock")
    o.fails(arn, "DATA-002", "bronze bucket without versioning")
    o.fails(arn, "ENC-001", "SSE-KMS with the AWS-managed key alias/aws/s3")
    o.fails(arn, "DATA-004", "bronze bucket archived after 365 days, not 730")
    o.passes(arn, "DATA-003 TLS-005 RES-001 RES-004")

    # Silver dst-001, replicated to ap-south-2: everything right. The destination is silver
    # too (a DR copy in another India region: RES-004 allows it).
    n, dr = "cg-silver-dst-001", "cg-silver-dst-001-dr"
    dr_arn = bucket(a, DR, dr, {"layer": "silver", "distributor": "dst-001"})
    versioning(a, DR, dr)
    sse(a, DR, dr, "aws:kms", k["dr"])
    block(a, DR, dr)
    lifecycle(a, DR, dr, transition_days=730, storage_class="GLACIER_IR", expiration_days=2555)
    policy(a, DR, dr, deny(dr))
    arn = bucket(a, PRIMARY, n, {"layer": "silver", "distributor": "dst-001"})
    versioning(a, PRIMARY, n)
    sse(a, PRIMARY, n, "aws:kms", k["dst-001"])
    block(a, PRIMARY, n)
    lifecycle(a, PRIMARY, n, transition_days=730, storage_class="GLACIER", expiration_days=2555)
    policy(a, PRIMARY, n, deny(n))
    replicate(a, PRIMARY, n, dr)
    o.passes(arn, "ENC-001 ENC-002 DATA-002 DATA-003 DATA-004 DATA-005 TLS-005 RES-001 RES-004")
    o.passes(arn + "#replication", "RES-003")
    o.passes(dr_arn, "ENC-001 ENC-002 DATA-002 DATA-003 DATA-004 TLS-005 RES-001 RES-004")

    # Gold dst-002, replicated to us-east-1: DATA-005 passes (another region), RES-003 fails.
    n, us = "cg-gold-dst-002", "cg-replica-us-east"
    us_arn = bucket(a, FOREIGN, us)
    versioning(a, FOREIGN, us)
    sse(a, FOREIGN, us, "AES256")
    block(a, FOREIGN, us)
    arn = bucket(a, PRIMARY, n, {"layer": "gold", "distributor": "dst-002"})
    versioning(a, PRIMARY, n)
    sse(a, PRIMARY, n, "aws:kms", k["dst-002"])
    block(a, PRIMARY, n)
    lifecycle(a, PRIMARY, n, expiration_days=1095)
    policy(a, PRIMARY, n, deny(n))
    replicate(a, PRIMARY, n, us)
    o.fails(arn + "#replication", "RES-003", "replicates to cg-replica-us-east in us-east-1")
    o.passes(arn, "ENC-001 ENC-002 DATA-002 DATA-003 DATA-004 DATA-005 TLS-005 RES-001 RES-004")
    o.fails(us_arn, "RES-001", "bucket in us-east-1")
    o.fails(us_arn, "ENC-001", "default encryption AES256 (SSE-S3)")
    o.passes(us_arn, "DATA-003")

    # Gold dst-003 and silver dst-004 share one key (ENC-002 for both).
    n = "cg-gold-dst-003"
    arn = bucket(a, PRIMARY, n, {"layer": "gold", "distributor": "dst-003"})
    sse(a, PRIMARY, n, "aws:kms", k["shared"])
    block(a, PRIMARY, n)
    lifecycle(a, PRIMARY, n, expiration_days=365)
    policy(a, PRIMARY, n, [{"Sid": "ReadOwnAccount", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{a.id}:root"},
                            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{n}/*"}])
    o.fails(arn, "ENC-002", "KMS key shared with distributor dst-004")
    o.fails(arn, "DATA-005", "gold bucket not replicated")
    o.fails(arn, "DATA-004", "gold bucket expires after 365 days, not 1095")
    o.fails(arn, "DATA-002", "gold bucket without versioning")
    o.fails(arn, "TLS-005", "bucket policy without an aws:SecureTransport deny")
    o.passes(arn, "ENC-001 DATA-003 RES-001 RES-004")

    n, copy = "cg-silver-dst-004", "cg-silver-dst-004-copy"
    bucket(a, PRIMARY, copy, {"layer": "silver", "distributor": "dst-004"})
    versioning(a, PRIMARY, copy)
    arn = bucket(a, PRIMARY, n, {"layer": "silver", "distributor": "dst-004"})
    versioning(a, PRIMARY, n)
    sse(a, PRIMARY, n, "aws:kms", k["shared"])
    lifecycle(a, PRIMARY, n, transition_days=730, storage_class="DEEP_ARCHIVE", expiration_days=2556)
    replicate(a, PRIMARY, n, copy)
    o.fails(arn, "ENC-002", "KMS key shared with distributor dst-003")
    o.fails(arn, "DATA-005", "silver bucket replicates within its own region ap-south-1")
    o.fails(arn, "DATA-003", "no bucket block; the account block sets only BlockPublicAcls")
    o.fails(arn, "TLS-005", "silver bucket without a bucket policy")
    o.passes(arn, "ENC-001 DATA-002 DATA-004 RES-001 RES-004")
    o.passes(arn + "#replication", "RES-003")

    # No layer, no encryption, no block: a scratch bucket (also unmanaged, ENV-003).
    n = "cg-tmp-scratch"
    arn = bucket(a, PRIMARY, n)
    o.fails(arn, "ENC-001", "no default encryption configuration")
    o.fails(arn, "DATA-003", "no bucket block; the account block sets only BlockPublicAcls")
    o.passes(arn, "RES-001")

    # DATA-006: MLflow's artifact store, WORM and versioned; a dev copy that neither locks
    # nor keeps its artifacts (they expire after a year).
    n = "cg-mlflow-artifacts"
    arn = bucket(a, PRIMARY, n, lock=True)
    lock(a, PRIMARY, n, "COMPLIANCE", 10)
    versioning(a, PRIMARY, n)
    o.passes(arn, "DATA-006")
    n = "cg-model-artifacts-dev"
    arn = bucket(a, PRIMARY, n)
    lifecycle(a, PRIMARY, n, expiration_days=365)
    o.fails(arn, "DATA-006", "model-artifact bucket without Object Lock or versioning, expiring current versions")

    # Account B: gold, covered by B's account-level block only; not replicated.
    n = "cg-b-gold-dst-005"
    arn = bucket(b, PRIMARY, n, {"layer": "gold", "distributor": "dst-005"})
    versioning(b, PRIMARY, n)
    sse(b, PRIMARY, n, "aws:kms", b_key["Arn"])
    lifecycle(b, PRIMARY, n, expiration_days=1095)
    policy(b, PRIMARY, n, deny(n))
    o.fails(arn, "DATA-005", "gold bucket of account 111111111111 not replicated")
    o.passes(arn, "ENC-001 ENC-002 DATA-002 DATA-003 DATA-004 TLS-005 RES-001 RES-004")


def readback_s3(acct, o, region_of_bucket):
    """The audit's calls for every bucket: ListBuckets, GetBucketLocation, then the eight
    settings; and S3 Control's account-level block."""
    s3 = acct.client("s3", PRIMARY)
    names = [x["Name"] for x in s3.list_buckets()["Buckets"]]
    for name, region in region_of_bucket.items():
        o.must(f"s3 {name} listed in {acct.id}", name in names, True)
        location = s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
        o.must(f"s3 {name} location", location, region)
    account_block = acct.client("s3control").get_public_access_block(AccountId=acct.id)["PublicAccessBlockConfiguration"]
    o.must(f"s3control account block of {acct.id}", account_block.get("BlockPublicAcls"), True)


def s3_setting(s3, call, name, absent):
    try:
        return getattr(s3, call)(Bucket=name)
    except s3.exceptions.ClientError as e:
        if e.response["Error"]["Code"] in absent:
            return None
        raise


def readback_bucket(acct, o, region, name, sse_alg=None, key=None, lock_mode=None, lock_years=None, versioned=None,
                    own_block=None, tags=None, deny=None, transition=None, expiration=None, destination=None):
    s3 = acct.client("s3", region)
    enc = s3_setting(s3, "get_bucket_encryption", name, ["ServerSideEncryptionConfigurationNotFoundError"])
    default = enc and enc["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    o.must(f"s3 {name} SSEAlgorithm", default and default.get("SSEAlgorithm"), sse_alg)
    o.must(f"s3 {name} KMSMasterKeyID", default and default.get("KMSMasterKeyID"), key)
    got = s3_setting(s3, "get_object_lock_configuration", name, ["ObjectLockConfigurationNotFoundError"])
    retention = (got or {}).get("ObjectLockConfiguration", {}).get("Rule", {}).get("DefaultRetention", {})
    o.must(f"s3 {name} lock mode", retention.get("Mode"), lock_mode)
    o.must(f"s3 {name} lock years", retention.get("Years"), lock_years)
    status = s3.get_bucket_versioning(Bucket=name).get("Status")
    o.must(f"s3 {name} versioning", status, "Enabled" if versioned else None)
    got = s3_setting(s3, "get_public_access_block", name, ["NoSuchPublicAccessBlockConfiguration"])
    o.must(f"s3 {name} own public access block", got and got["PublicAccessBlockConfiguration"], own_block)
    got = s3_setting(s3, "get_bucket_tagging", name, ["NoSuchTagSet", "NoSuchTagSetError"])
    o.must(f"s3 {name} tags", {t["Key"]: t["Value"] for t in (got or {}).get("TagSet", [])}, tags or {})
    got = s3_setting(s3, "get_bucket_policy", name, ["NoSuchBucketPolicy"])
    has_deny = None if got is None else any(s.get("Effect") == "Deny" and "aws:SecureTransport" in json.dumps(s.get("Condition", {})) for s in json.loads(got["Policy"])["Statement"])
    o.must(f"s3 {name} policy denies insecure transport", has_deny, deny)
    got = s3_setting(s3, "get_bucket_lifecycle_configuration", name, ["NoSuchLifecycleConfiguration"])
    rules = (got or {}).get("Rules", [])
    o.must(f"s3 {name} lifecycle transition", [(t.get("Days"), t.get("StorageClass")) for r in rules for t in r.get("Transitions", [])], [transition] if transition else [])
    o.must(f"s3 {name} lifecycle expiration", [r.get("Expiration", {}).get("Days") for r in rules if r.get("Expiration")], [expiration] if expiration else [])
    got = s3_setting(s3, "get_bucket_replication", name, ["ReplicationConfigurationNotFoundError"])
    dests = [(r["Status"], r["Destination"]["Bucket"]) for r in (got or {}).get("ReplicationConfiguration", {}).get("Rules", [])]
    o.must(f"s3 {name} replication", dests, [("Enabled", f"arn:aws:s3:::{destination}")] if destination else [])


def readback_buckets(a, b, o, keys, b_key):
    k = {n: keys[n]["Arn"] for n in keys}
    full = FULL_BLOCK
    P, D, F = PRIMARY, DR, FOREIGN
    readback_s3(a, o, {"cg-bronze-dst-001": P, "cg-bronze-dst-002": P, "cg-audit-logs": P, "cg-bronze-nolock": P, "cg-silver-dst-001": P,
                       "cg-silver-dst-001-dr": D, "cg-gold-dst-002": P, "cg-replica-us-east": F, "cg-gold-dst-003": P,
                       "cg-silver-dst-004": P, "cg-silver-dst-004-copy": P, "cg-tmp-scratch": P})
    readback_s3(b, o, {"cg-b-gold-dst-005": P})
    rb = readback_bucket
    rb(a, o, P, "cg-bronze-dst-001", "aws:kms", k["dst-001"], "COMPLIANCE", 7, True, full, {"layer": "bronze", "distributor": "dst-001"}, True, (730, "GLACIER"))
    rb(a, o, P, "cg-bronze-dst-002", "aws:kms", keys["dst-002"]["KeyId"], "GOVERNANCE", 7, True, None, {"layer": "bronze", "distributor": "dst-002"})
    rb(a, o, P, "cg-audit-logs", "AES256", None, "COMPLIANCE", 1, True, full, {"layer": "audit"}, True)
    rb(a, o, P, "cg-bronze-nolock", "aws:kms", "alias/aws/s3", None, None, False, full, {"layer": "bronze"}, True, (365, "GLACIER"))
    rb(a, o, P, "cg-silver-dst-001", "aws:kms", k["dst-001"], None, None, True, full, {"layer": "silver", "distributor": "dst-001"}, True, (730, "GLACIER"), 2555, "cg-silver-dst-001-dr")
    rb(a, o, D, "cg-silver-dst-001-dr", "aws:kms", k["dr"], None, None, True, full, {"layer": "silver", "distributor": "dst-001"}, True, (730, "GLACIER_IR"), 2555)
    rb(a, o, P, "cg-gold-dst-002", "aws:kms", k["dst-002"], None, None, True, full, {"layer": "gold", "distributor": "dst-002"}, True, None, 1095, "cg-replica-us-east")
    rb(a, o, F, "cg-replica-us-east", "AES256", None, None, None, True, full)
    rb(a, o, P, "cg-gold-dst-003", "aws:kms", k["shared"], None, None, False, full, {"layer": "gold", "distributor": "dst-003"}, False, None, 365)
    rb(a, o, P, "cg-silver-dst-004", "aws:kms", k["shared"], None, None, True, None, {"layer": "silver", "distributor": "dst-004"}, None, (730, "DEEP_ARCHIVE"), 2556, "cg-silver-dst-004-copy")
    rb(a, o, P, "cg-tmp-scratch")
    rb(b, o, P, "cg-b-gold-dst-005", "aws:kms", b_key["Arn"], None, None, True, None, {"layer": "gold", "distributor": "dst-005"}, True, None, 1095)


# ---------------------------------------------------------------------------------------------
# EC2: VPCs, subnets, routes, endpoints, security groups, volumes, launch templates


def tags(**kv):
    return [{"Key": k, "Value": v} for k, v in kv.items()]


def seed_network(a, o):
    ec2 = a.client("ec2", PRIMARY)
    net = {}

    def arn(kind, ident, region=PRIMARY):
        return a.arn("ec2", region, f"{kind}/{ident}")

    main = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags(Name="altscore-prod")}])["Vpc"]["VpcId"]
    bare = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags(Name="altscore-sandbox")}])["Vpc"]["VpcId"]
    net["vpc"], net["vpc_bare"] = main, bare

    def subnet(name, cidr, zone, tier):
        s = ec2.create_subnet(VpcId=main, CidrBlock=cidr, AvailabilityZone=zone, TagSpecifications=[{"ResourceType": "subnet", "Tags": tags(Name=name, Tier=tier)}])
        return s["Subnet"]["SubnetId"]

    s = {
        "public-a": subnet("altscore-public-a", "10.0.0.0/25", "ap-south-1a", "public"),
        "public-b": subnet("altscore-public-b", "10.0.0.128/25", "ap-south-1b", "public"),
        "app-a": subnet("altscore-app-a", "10.0.10.0/25", "ap-south-1a", "app"),
        "app-b": subnet("altscore-app-b", "10.0.10.128/25", "ap-south-1b", "app"),
        "app-c": subnet("altscore-app-c", "10.0.11.0/25", "ap-south-1c", "app"),
        "app-wrong": subnet("altscore-app-wrong", "10.0.11.128/25", "ap-south-1c", "app"),
        "data-a": subnet("altscore-data-a", "10.0.20.0/24", "ap-south-1a", "data"),
        "data-wrong": subnet("altscore-data-wrong", "10.0.21.0/24", "ap-south-1b", "data"),
        "db-a": subnet("altscore-db-a", "10.0.30.0/25", "ap-south-1a", "db"),
        "db-b": subnet("altscore-db-b", "10.0.30.128/25", "ap-south-1b", "db"),
    }
    net["subnets"] = s

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=main)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=s["public-a"], AllocationId=eip)["NatGateway"]["NatGatewayId"]

    def table(name, route=None):
        t = ec2.create_route_table(VpcId=main, TagSpecifications=[{"ResourceType": "route-table", "Tags": tags(Name=name)}])["RouteTable"]["RouteTableId"]
        if route:
            ec2.create_route(RouteTableId=t, DestinationCidrBlock="0.0.0.0/0", **route)
        return t

    rt_public = table("altscore-public", {"GatewayId": igw})
    rt_app = table("altscore-app", {"NatGatewayId": nat})
    rt_private = table("altscore-private")
    for name, t in [("public-a", rt_public), ("public-b", rt_public), ("app-a", rt_app), ("app-b", rt_app), ("app-c", rt_app),
                    ("app-wrong", rt_public), ("data-a", rt_private), ("data-wrong", rt_app), ("db-a", rt_private), ("db-b", rt_private)]:
        ec2.associate_route_table(RouteTableId=t, SubnetId=s[name])
    net["tables"] = {"public": rt_public, "app": rt_app, "private": rt_private}

    for name in ["app-a", "app-b", "app-c"]:
        o.passes(arn("subnet", s[name]), "NET-003 RES-001")
    o.fails(arn("subnet", s["app-wrong"]), "NET-003", "app subnet associated with a route table whose 0.0.0.0/0 goes to an internet gateway")
    o.passes(arn("subnet", s["data-a"]), "NET-003")
    o.fails(arn("subnet", s["data-wrong"]), "NET-003", "data subnet routes 0.0.0.0/0 through a NAT gateway")
    o.passes(arn("subnet", s["db-a"]), "NET-003")
    o.passes(arn("subnet", s["db-b"]), "NET-003")

    # The S3 gateway endpoint of the main VPC (NET-005); the sandbox VPC has none.
    ec2.create_vpc_endpoint(VpcId=main, ServiceName=f"com.amazonaws.{PRIMARY}.s3", VpcEndpointType="Gateway", RouteTableIds=[rt_private])
    o.passes(arn("vpc", main), "NET-005 RES-001")
    o.fails(arn("vpc", bare), "NET-005", "VPC without an S3 gateway endpoint")
    o.passes(arn("vpc", bare), "RES-001")

    # A non-default VPC in us-east-1 (RES-001; and NET-005, it has no endpoint).
    us_vpc = a.client("ec2", FOREIGN).create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    net["vpc_us"] = us_vpc
    o.fails(arn("vpc", us_vpc, FOREIGN), "RES-001", "VPC in us-east-1")
    o.fails(arn("vpc", us_vpc, FOREIGN), "NET-005", "VPC without an S3 gateway endpoint")

    # Security groups.
    def group(name, ingress=None, keep_egress=True):
        g = ec2.create_security_group(GroupName=name, Description=name, VpcId=main)["GroupId"]
        if ingress:
            ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=ingress)
        if not keep_egress:
            ec2.revoke_security_group_egress(GroupId=g, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        return g

    tcp = lambda port, **source: {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **source}  # noqa: E731
    g = {}
    g["ssh"] = group("bastion-ssh", [tcp(22, IpRanges=[{"CidrIp": "0.0.0.0/0"}])])
    g["alb"] = group("altscore-alb", [tcp(443, IpRanges=[{"CidrIp": "0.0.0.0/0"}])])
    g["api"] = group("altscore-api-pods")
    g["rds-open"] = group("altscore-rds-legacy", [tcp(5432, IpRanges=[{"CidrIp": "10.0.10.0/23"}])])
    g["rds"] = group("altscore-rds", [tcp(5432, UserIdGroupPairs=[{"GroupId": g["api"]}])], keep_egress=False)
    net["groups"] = g
    o.fails(arn("security-group", g["ssh"]), "NET-001", "TCP 22 open to 0.0.0.0/0")
    o.passes(arn("security-group", g["ssh"]), "NET-002")
    o.passes(arn("security-group", g["alb"]), "NET-001 NET-002")
    o.fails(arn("security-group", g["rds-open"]), "NET-002", "database group admits 10.0.10.0/23 on 5432 and keeps the default egress")
    o.passes(arn("security-group", g["rds-open"]), "NET-001")
    o.passes(arn("security-group", g["rds"]), "NET-001 NET-002")
    return net


def readback_network(a, o, net):
    ec2 = a.client("ec2", PRIMARY)
    s = net["subnets"]
    subnets = {x["SubnetId"]: x for x in ec2.describe_subnets()["Subnets"]}
    for name, ident in s.items():
        o.must(f"subnet {name} listed", ident in subnets, True)
        tier = {t["Key"]: t["Value"] for t in subnets.get(ident, {}).get("Tags", [])}.get("Tier")
        o.must(f"subnet {name} Tier tag", tier, name.split("-")[0])
    tables = ec2.describe_route_tables()["RouteTables"]

    def internet_route(subnet):
        for t in tables:
            if any(x.get("SubnetId") == subnet for x in t.get("Associations", [])):
                for r in t["Routes"]:
                    for key, prefix in [("GatewayId", "igw-"), ("NatGatewayId", "nat-")]:
                        if str(r.get(key, "")).startswith(prefix):
                            return prefix[:-1]
                return "none"
        return "unassociated"

    for name, wanted in [("app-a", "nat"), ("app-wrong", "igw"), ("data-a", "none"), ("data-wrong", "nat"), ("db-a", "none"), ("public-a", "igw")]:
        o.must(f"subnet {name} internet route", internet_route(s[name]), wanted)
    endpoints = ec2.describe_vpc_endpoints()["VpcEndpoints"]
    o.must("S3 gateway endpoint of the main VPC", [(e["ServiceName"], e.get("VpcEndpointType")) for e in endpoints if e["VpcId"] == net["vpc"]],
           [(f"com.amazonaws.{PRIMARY}.s3", "Gateway")])
    o.must("endpoints of the sandbox VPC", [e for e in endpoints if e["VpcId"] == net["vpc_bare"]], [])
    vpcs = {v["VpcId"]: v for v in ec2.describe_vpcs()["Vpcs"]}
    o.must("main VPC is not default", vpcs[net["vpc"]].get("IsDefault"), False)
    groups = {x["GroupId"]: x for x in ec2.describe_security_groups()["SecurityGroups"]}
    g = net["groups"]
    rules = lambda gid, key: [(p.get("IpProtocol"), p.get("FromPort"), p.get("ToPort"), [r["CidrIp"] for r in p.get("IpRanges", [])],  # noqa: E731
                               [x["GroupId"] for x in p.get("UserIdGroupPairs", [])]) for p in groups[gid][key]]
    o.must("sg bastion-ssh ingress", rules(g["ssh"], "IpPermissions"), [("tcp", 22, 22, ["0.0.0.0/0"], [])])
    o.must("sg altscore-alb ingress", rules(g["alb"], "IpPermissions"), [("tcp", 443, 443, ["0.0.0.0/0"], [])])
    o.must("sg altscore-rds-legacy ingress", rules(g["rds-open"], "IpPermissions"), [("tcp", 5432, 5432, ["10.0.10.0/23"], [])])
    o.must("sg altscore-rds-legacy egress", rules(g["rds-open"], "IpPermissionsEgress"), [("-1", None, None, ["0.0.0.0/0"], [])])
    o.must("sg altscore-rds ingress", rules(g["rds"], "IpPermissions"), [("tcp", 5432, 5432, [], [g["api"]])])
    o.must("sg altscore-rds egress", rules(g["rds"], "IpPermissionsEgress"), [])


def seed_compute(a, o, keys, net):
    """EBS volumes and launch templates (ENC-008)."""
    ec2 = a.client("ec2", PRIMARY)
    arn = lambda kind, ident: a.arn("ec2", PRIMARY, f"{kind}/{ident}")  # noqa: E731
    out = {}
    out["vol_ok"] = ec2.create_volume(AvailabilityZone="ap-south-1a", Size=20, Encrypted=True, KmsKeyId=keys["ebs"]["Arn"])["VolumeId"]
    out["vol_plain"] = ec2.create_volume(AvailabilityZone="ap-south-1a", Size=20, Encrypted=False)["VolumeId"]
    o.passes(arn("volume", out["vol_ok"]), "ENC-008 RES-001")
    o.fails(arn("volume", out["vol_plain"]), "ENC-008", "unencrypted EBS volume")
    device = lambda encrypted: [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 30, "Encrypted": encrypted}}]  # noqa: E731
    out["lt_ok"] = ec2.create_launch_template(LaunchTemplateName="altscore-nodes", LaunchTemplateData={"BlockDeviceMappings": device(True)})["LaunchTemplate"]["LaunchTemplateId"]
    out["lt_plain"] = ec2.create_launch_template(LaunchTemplateName="altscore-legacy-nodes", LaunchTemplateData={"BlockDeviceMappings": device(False)})["LaunchTemplate"]["LaunchTemplateId"]
    o.passes(arn("launch-template", out["lt_ok"]), "ENC-008")
    o.fails(arn("launch-template", out["lt_plain"]), "ENC-008", "launch template maps /dev/xvda unencrypted")
    return out


def readback_compute(a, o, out):
    ec2 = a.client("ec2", PRIMARY)
    volumes = {v["VolumeId"]: v for v in ec2.describe_volumes()["Volumes"]}
    o.must("volume encrypted", volumes[out["vol_ok"]].get("Encrypted"), True)
    o.must("volume unencrypted", volumes[out["vol_plain"]].get("Encrypted"), False)
    for name, wanted in [("lt_ok", True), ("lt_plain", False)]:
        v = ec2.describe_launch_template_versions(LaunchTemplateId=out[name], Versions=["$Default"])["LaunchTemplateVersions"]
        mappings = v[0]["LaunchTemplateData"].get("BlockDeviceMappings", []) if v else []
        o.must(f"launch template {name} $Default Ebs.Encrypted", [m.get("Ebs", {}).get("Encrypted") for m in mappings], [wanted])


# ---------------------------------------------------------------------------------------------
# EKS


def seed_eks(a, o, keys, net):
    eks = a.client("eks", PRIMARY)
    s = net["subnets"]
    role = f"arn:aws:iam::{a.id}:role/eks-cluster"
    prod = eks.create_cluster(
        name="altscore-prod", version="1.30", roleArn=role,
        resourcesVpcConfig={"subnetIds": [s["app-a"], s["app-b"], s["app-c"]], "endpointPublicAccess": False, "endpointPrivateAccess": True},
        logging={"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True}]},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": keys["eks"]["Arn"]}}],
    )["cluster"]
    old = eks.create_cluster(
        name="altscore-legacy", version="1.27", roleArn=role,
        resourcesVpcConfig={"subnetIds": [s["app-a"], s["app-b"]], "endpointPublicAccess": True, "endpointPrivateAccess": False, "publicAccessCidrs": ["0.0.0.0/0"]},
    )["cluster"]
    o.passes(prod["arn"], "EKS-001 EKS-003 EKS-004 ENC-008 RES-001 RES-004")
    o.fails(old["arn"], "EKS-001", "Kubernetes 1.27")
    o.fails(old["arn"], "EKS-003", "subnets in two availability zones")
    o.fails(old["arn"], "EKS-004", "public endpoint open to 0.0.0.0/0 and no audit log")
    o.fails(old["arn"], "ENC-008", "no secrets encryption")
    o.passes(old["arn"], "RES-001 RES-004")

    node_role = f"arn:aws:iam::{a.id}:role/eks-nodes"
    three = [s["app-a"], s["app-b"], s["app-c"]]
    groups = {}
    groups["api"] = eks.create_nodegroup(clusterName="altscore-prod", nodegroupName="api", nodeRole=node_role, subnets=three, instanceTypes=["c6i.xlarge"],
                                         scalingConfig={"minSize": 3, "maxSize": 20, "desiredSize": 3},
                                         taints=[{"key": "workload", "value": "api", "effect": "NO_SCHEDULE"}])["nodegroup"]
    groups["system"] = eks.create_nodegroup(clusterName="altscore-prod", nodegroupName="system", nodeRole=node_role, subnets=three, instanceTypes=["t3.medium"],
                                            scalingConfig={"minSize": 3, "maxSize": 3, "desiredSize": 3},
                                            taints=[{"key": "node-role", "value": "system", "effect": "NO_SCHEDULE"}])["nodegroup"]
    groups["ml"] = eks.create_nodegroup(clusterName="altscore-prod", nodegroupName="ml", nodeRole=node_role, subnets=[s["app-a"]], instanceTypes=["m5.large"],
                                        scalingConfig={"minSize": 1, "maxSize": 5, "desiredSize": 1})["nodegroup"]
    o.passes(groups["api"]["nodegroupArn"], "EKS-002 EKS-003")
    o.passes(groups["system"]["nodegroupArn"], "EKS-002 EKS-003")
    o.fails(groups["ml"]["nodegroupArn"], "EKS-002", "ml node group on m5.large, scaling 1-5, no workload=ml taint")
    o.fails(groups["ml"]["nodegroupArn"], "EKS-003", "ml node group in one availability zone")
    return {"prod": prod, "old": old, "groups": groups}


def readback_eks(a, o, out):
    eks = a.client("eks", PRIMARY)
    o.must("eks clusters", sorted(eks.list_clusters()["clusters"]), ["altscore-legacy", "altscore-prod"])
    prod = eks.describe_cluster(name="altscore-prod")["cluster"]
    o.must("eks prod version", prod.get("version"), "1.30")
    o.must("eks prod endpointPublicAccess", prod["resourcesVpcConfig"].get("endpointPublicAccess"), False)
    o.must("eks prod endpointPrivateAccess", prod["resourcesVpcConfig"].get("endpointPrivateAccess"), True)
    logged = [t for x in prod.get("logging", {}).get("clusterLogging", []) if x.get("enabled") for t in x.get("types", [])]
    o.must("eks prod audit log", "audit" in logged, True)
    o.must("eks prod secrets encryption", [(e["resources"], e["provider"]["keyArn"]) for e in prod.get("encryptionConfig", [])],
           [(["secrets"], out["prod"]["encryptionConfig"][0]["provider"]["keyArn"])])
    old = eks.describe_cluster(name="altscore-legacy")["cluster"]
    o.must("eks legacy version", old.get("version"), "1.27")
    o.must("eks legacy publicAccessCidrs", old["resourcesVpcConfig"].get("publicAccessCidrs"), ["0.0.0.0/0"])
    logged = [t for x in old.get("logging", {}).get("clusterLogging", []) if x.get("enabled") for t in x.get("types", [])]
    o.must("eks legacy audit log", "audit" in logged, False)
    o.must("eks legacy encryption", old.get("encryptionConfig", []), [])
    o.must("eks node groups", sorted(eks.list_nodegroups(clusterName="altscore-prod")["nodegroups"]), ["api", "ml", "system"])
    for name, types, scaling, taints in [("api", ["c6i.xlarge"], (3, 20), [("workload", "api", "NO_SCHEDULE")]),
                                         ("system", ["t3.medium"], (3, 3), [("node-role", "system", "NO_SCHEDULE")]),
                                         ("ml", ["m5.large"], (1, 5), [])]:
        g = eks.describe_nodegroup(clusterName="altscore-prod", nodegroupName=name)["nodegroup"]
        o.must(f"node group {name} arn", g.get("nodegroupArn"), out["groups"][name]["nodegroupArn"])
        o.must(f"node group {name} instanceTypes", g.get("instanceTypes"), types)
        o.must(f"node group {name} scaling", (g["scalingConfig"].get("minSize"), g["scalingConfig"].get("maxSize")), scaling)
        o.must(f"node group {name} taints", [(t.get("key"), t.get("value"), t.get("effect")) for t in g.get("taints", [])], taints)


# ---------------------------------------------------------------------------------------------
# RDS, ElastiCache, MSK


def seed_rds(a, o, keys, net):
    rds = a.client("rds", PRIMARY)
    s, g = net["subnets"], net["groups"]
    rds.create_db_subnet_group(DBSubnetGroupName="altscore-db", DBSubnetGroupDescription="database tier", SubnetIds=[s["db-a"], s["db-b"]])
    rds.create_db_parameter_group(DBParameterGroupName="altscore-pg15", DBParameterGroupFamily="postgres15", Description="force ssl")
    rds.modify_db_parameter_group(DBParameterGroupName="altscore-pg15", Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}])
    rds.create_db_parameter_group(DBParameterGroupName="altscore-pg14-nossl", DBParameterGroupFamily="postgres14", Description="no ssl")
    rds.modify_db_parameter_group(DBParameterGroupName="altscore-pg14-nossl", Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"}])
    common = {"DBInstanceClass": "db.r6g.large", "Engine": "postgres", "MasterUsername": "altscore", "MasterUserPassword": "not-a-secret-test-only", "AllocatedStorage": 100}
    prod = rds.create_db_instance(DBInstanceIdentifier="altscore-prod", EngineVersion="15.5", MultiAZ=True, StorageEncrypted=True, KmsKeyId=keys["rds"]["Arn"],
                                  BackupRetentionPeriod=35, DeletionProtection=True, PubliclyAccessible=False, DBSubnetGroupName="altscore-db",
                                  DBParameterGroupName="altscore-pg15", VpcSecurityGroupIds=[g["rds"]], **common)["DBInstance"]
    legacy = rds.create_db_instance(DBInstanceIdentifier="altscore-legacy", EngineVersion="14.10", MultiAZ=False, StorageEncrypted=False,
                                    BackupRetentionPeriod=7, DeletionProtection=False, PubliclyAccessible=True, DBSubnetGroupName="altscore-db",
                                    DBParameterGroupName="altscore-pg14-nossl", **common)["DBInstance"]
    o.passes(prod["DBInstanceArn"], "BAK-001 ENC-005 NET-004 RES-001 RES-003 RES-004")
    o.fails(legacy["DBInstanceArn"], "BAK-001", "7-day backups, no deletion protection")
    o.fails(legacy["DBInstanceArn"], "ENC-005", "unencrypted, PostgreSQL 14, single-AZ")
    o.fails(legacy["DBInstanceArn"], "NET-004", "publicly accessible")
    o.passes(legacy["DBInstanceArn"], "RES-001 RES-004")
    groups = {x["DBParameterGroupName"]: x for x in rds.describe_db_parameter_groups()["DBParameterGroups"]}
    pg_ok = groups["altscore-pg15"].get("DBParameterGroupArn") or a.arn("rds", PRIMARY, "pg:altscore-pg15")
    pg_bad = groups["altscore-pg14-nossl"].get("DBParameterGroupArn") or a.arn("rds", PRIMARY, "pg:altscore-pg14-nossl")
    o.passes(pg_ok, "TLS-005")
    o.fails(pg_bad, "TLS-005", "rds.force_ssl = 0")

    # ap-south-2: a DR-tagged instance (allowed there) and one that is not (RES-004).
    rds2 = a.client("rds", DR)
    dr = rds2.create_db_instance(DBInstanceIdentifier="altscore-dr", EngineVersion="15.5", MultiAZ=True, StorageEncrypted=True, KmsKeyId=keys["dr"]["Arn"],
                                 BackupRetentionPeriod=35, DeletionProtection=True, PubliclyAccessible=False, Tags=[{"Key": "dr", "Value": "true"}], **common)["DBInstance"]
    stray = rds2.create_db_instance(DBInstanceIdentifier="altscore-stray", EngineVersion="15.5", MultiAZ=True, StorageEncrypted=True, KmsKeyId=keys["dr"]["Arn"],
                                    BackupRetentionPeriod=35, DeletionProtection=True, PubliclyAccessible=False, **common)["DBInstance"]
    o.passes(dr["DBInstanceArn"], "BAK-001 ENC-005 RES-001 RES-004")
    # Both use ap-south-2's default.postgres15, which the audit then judges: no rds.force_ssl = 1.
    o.fails(a.arn("rds", DR, "pg:default.postgres15"), "TLS-005", "default.postgres15 (used by altscore-dr) does not set rds.force_ssl = 1")
    o.fails(stray["DBInstanceArn"], "RES-004", "production database in ap-south-2 without the dr tag")
    o.passes(stray["DBInstanceArn"], "BAK-001 ENC-005 RES-001")

    # us-east-1: outside India.
    us = a.client("rds", FOREIGN).create_db_instance(DBInstanceIdentifier="altscore-us", EngineVersion="15.5", MultiAZ=True, StorageEncrypted=True,
                                                       KmsKeyId=keys["us"]["Arn"], BackupRetentionPeriod=35, DeletionProtection=True,
                                                       PubliclyAccessible=False, **common)["DBInstance"]
    o.fails(us["DBInstanceArn"], "RES-001", "database in us-east-1")
    o.fails(a.arn("rds", FOREIGN, "pg:default.postgres15"), "TLS-005", "default.postgres15 (used by altscore-us) does not set rds.force_ssl = 1")
    o.fails(us["DBInstanceArn"], "RES-004", "production database in us-east-1")
    o.passes(us["DBInstanceArn"], "BAK-001 ENC-005")
    return {"prod": prod, "legacy": legacy, "dr": dr, "stray": stray, "us": us, "keys": keys}


def readback_rds(a, o, out):
    for name, region, encrypted, key, version, multi_az, backups, protected, public in [
        ("altscore-prod", PRIMARY, True, out["keys"]["rds"]["Arn"], "15.5", True, 35, True, False),
        ("altscore-legacy", PRIMARY, False, None, "14.10", False, 7, False, True),
        ("altscore-dr", DR, True, out["keys"]["dr"]["Arn"], "15.5", True, 35, True, False),
        ("altscore-stray", DR, True, out["keys"]["dr"]["Arn"], "15.5", True, 35, True, False),
        ("altscore-us", FOREIGN, True, out["keys"]["us"]["Arn"], "15.5", True, 35, True, False),
    ]:
        rds = a.client("rds", region)
        dbs = {d["DBInstanceIdentifier"]: d for d in rds.describe_db_instances()["DBInstances"]}
        d = dbs[name]
        o.must(f"rds {name}", (d.get("StorageEncrypted"), d.get("KmsKeyId") if encrypted else None, d.get("EngineVersion"), d.get("MultiAZ"),
                               d.get("BackupRetentionPeriod"), d.get("DeletionProtection"), d.get("PubliclyAccessible"), d.get("ReadReplicaSourceDBInstanceIdentifier")),
               (encrypted, key, version, multi_az, backups, protected, public, None))
    rds = a.client("rds", PRIMARY)
    for group, value in [("altscore-pg15", "1"), ("altscore-pg14-nossl", "0")]:
        params = [p for page in rds.get_paginator("describe_db_parameters").paginate(DBParameterGroupName=group) for p in page["Parameters"]]
        o.must(f"rds {group} rds.force_ssl", [p.get("ParameterValue") for p in params if p.get("ParameterName") == "rds.force_ssl"], [value])
    dr_groups = {g["DBParameterGroupName"]: g for g in a.client("rds", DR).describe_db_parameter_groups()["DBParameterGroups"]}
    o.must("rds default.postgres15 in ap-south-2", dr_groups.get("default.postgres15", {}).get("DBParameterGroupFamily"), "postgres15")
    o.must("rds default.postgres15 arn", dr_groups.get("default.postgres15", {}).get("DBParameterGroupArn", a.arn("rds", DR, "pg:default.postgres15")),
           a.arn("rds", DR, "pg:default.postgres15"))
    params = [p for page in a.client("rds", DR).get_paginator("describe_db_parameters").paginate(DBParameterGroupName="default.postgres15") for p in page["Parameters"]]
    o.must("rds default.postgres15 rds.force_ssl", [p.get("ParameterValue") for p in params if p.get("ParameterName") == "rds.force_ssl" and p.get("ParameterValue") == "1"], [])
    subnet_groups = {x["DBSubnetGroupName"]: x for x in rds.describe_db_subnet_groups()["DBSubnetGroups"]}
    o.must("rds subnet group altscore-db subnets", len(subnet_groups["altscore-db"]["Subnets"]), 2)


def seed_elasticache(a, o, keys, net):
    cache = a.client("elasticache", PRIMARY)
    s = net["subnets"]
    cache.create_cache_subnet_group(CacheSubnetGroupName="altscore-cache-db", CacheSubnetGroupDescription="db tier", SubnetIds=[s["db-a"], s["db-b"]])
    cache.create_cache_subnet_group(CacheSubnetGroupName="altscore-cache-public", CacheSubnetGroupDescription="public", SubnetIds=[s["public-a"], s["public-b"]])
    prod = cache.create_replication_group(ReplicationGroupId="altscore-redis", ReplicationGroupDescription="sessions", Engine="redis", EngineVersion="7.1",
                                          CacheNodeType="cache.r6g.large", CacheSubnetGroupName="altscore-cache-db", AtRestEncryptionEnabled=True,
                                          TransitEncryptionEnabled=True, KmsKeyId=keys["cache"]["Arn"])["ReplicationGroup"]
    legacy = cache.create_replication_group(ReplicationGroupId="altscore-redis-legacy", ReplicationGroupDescription="legacy", Engine="redis", EngineVersion="6.2",
                                            CacheNodeType="cache.t3.small", CacheSubnetGroupName="altscore-cache-public")["ReplicationGroup"]
    # moto lists member clusters but creates none: add each group's member, as AWS has it.
    for group, version, subnets in [("altscore-redis", "7.1", "altscore-cache-db"), ("altscore-redis-legacy", "6.2", "altscore-cache-public")]:
        cache.create_cache_cluster(CacheClusterId=f"{group}-001", ReplicationGroupId=group, Engine="redis", EngineVersion=version,
                                   CacheNodeType="cache.t3.small", CacheSubnetGroupName=subnets)
    o.passes(prod["ARN"], "ENC-006 NET-004 RES-001 RES-004")
    o.fails(legacy["ARN"], "ENC-006", "no encryption at rest or in transit, Redis 6.2")
    o.fails(legacy["ARN"], "NET-004", "subnet group altscore-cache-public has public-tier subnets")
    o.passes(legacy["ARN"], "RES-001 RES-004")
    return {"prod": prod, "legacy": legacy, "keys": keys}


def readback_elasticache(a, o, out):
    cache = a.client("elasticache", PRIMARY)
    groups = {g["ReplicationGroupId"]: g for g in cache.describe_replication_groups()["ReplicationGroups"]}
    clusters = {c["CacheClusterId"]: c for c in cache.describe_cache_clusters()["CacheClusters"]}
    p = groups["altscore-redis"]
    o.must("redis prod encryption", (p.get("AtRestEncryptionEnabled"), p.get("TransitEncryptionEnabled"), p.get("KmsKeyId")), (True, True, out["keys"]["cache"]["Arn"]))
    l_ = groups["altscore-redis-legacy"]
    o.must("redis legacy encryption", (l_.get("AtRestEncryptionEnabled"), l_.get("TransitEncryptionEnabled")), (False, False))
    for group, version, subnets in [("altscore-redis", "7.1", "altscore-cache-db"), ("altscore-redis-legacy", "6.2", "altscore-cache-public")]:
        members = [c for c in clusters.values() if c.get("ReplicationGroupId") == group]
        o.must(f"redis {group} member", [(c.get("EngineVersion"), c.get("CacheSubnetGroupName")) for c in members], [(version, subnets)])
    subnet_groups = {g["CacheSubnetGroupName"]: g for g in cache.describe_cache_subnet_groups()["CacheSubnetGroups"]}
    o.must("cache subnet groups", sorted(n for n in subnet_groups if n.startswith("altscore")), ["altscore-cache-db", "altscore-cache-public"])
    o.must("cache-public subnets", len(subnet_groups["altscore-cache-public"]["Subnets"]), 2)


def seed_msk(a, o, keys, net):
    kafka = a.client("kafka", PRIMARY)
    s = net["subnets"]

    def cluster(name, version, client_broker, key, public):
        info = {"InstanceType": "kafka.m5.large", "ClientSubnets": [s["data-a"], s["db-a"], s["db-b"]],
                "ConnectivityInfo": {"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS" if public else "DISABLED"}}}
        encryption = {"EncryptionInTransit": {"ClientBroker": client_broker, "InCluster": True}}
        if key:
            encryption["EncryptionAtRest"] = {"DataVolumeKMSKeyId": key}
        return kafka.create_cluster(ClusterName=name, KafkaVersion=version, NumberOfBrokerNodes=3, BrokerNodeGroupInfo=info, EncryptionInfo=encryption)["ClusterArn"]

    prod = cluster("altscore-events", "3.5.1", "TLS", keys["msk"]["Arn"], False)
    legacy = cluster("altscore-events-legacy", "2.8.1", "PLAINTEXT", None, True)
    o.passes(prod, "ENC-007 NET-004 RES-001 RES-004")
    o.fails(legacy, "ENC-007", "PLAINTEXT clients, AWS-managed key, Kafka 2.8.1")
    o.fails(legacy, "NET-004", "brokers with SERVICE_PROVIDED_EIPS public access")
    o.passes(legacy, "RES-001 RES-004")
    return {"prod": prod, "legacy": legacy, "keys": keys}


def readback_msk(a, o, out):
    kafka = a.client("kafka", PRIMARY)
    clusters = {c["ClusterArn"]: c for c in kafka.list_clusters_v2()["ClusterInfoList"]}
    for name, arn, broker, key, version, public in [("prod", out["prod"], "TLS", out["keys"]["msk"]["Arn"], "3.5.1", "DISABLED"),
                                                     ("legacy", out["legacy"], "PLAINTEXT", None, "2.8.1", "SERVICE_PROVIDED_EIPS")]:
        p = clusters.get(arn, {}).get("Provisioned", {})
        e = p.get("EncryptionInfo", {})
        o.must(f"msk {name}", (e.get("EncryptionInTransit", {}).get("ClientBroker"), e.get("EncryptionAtRest", {}).get("DataVolumeKMSKeyId"),
                               p.get("CurrentBrokerSoftwareInfo", {}).get("KafkaVersion"),
                               p.get("BrokerNodeGroupInfo", {}).get("ConnectivityInfo", {}).get("PublicAccess", {}).get("Type")),
               (broker, key, version, public))


# ---------------------------------------------------------------------------------------------
# ECR, ACM, Secrets Manager, CloudWatch Logs, ELBv2, Backup

UNTAGGED_90 = {"rules": [{"rulePriority": 1, "description": "expire untagged after 90 days",
                          "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 90},
                          "action": {"type": "expire"}}]}


def seed_ecr(a, o):
    ecr = a.client("ecr", PRIMARY)
    api = ecr.create_repository(repositoryName="altscore-api", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True})["repository"]
    ecr.put_lifecycle_policy(repositoryName="altscore-api", lifecyclePolicyText=json.dumps(UNTAGGED_90))
    legacy = ecr.create_repository(repositoryName="altscore-legacy", imageTagMutability="MUTABLE", imageScanningConfiguration={"scanOnPush": False})["repository"]
    # Registry scanning covers only prod-* repositories here: it does not rescue altscore-legacy.
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "prod-*", "filterType": "WILDCARD"}]}])
    ecr.put_replication_configuration(replicationConfiguration={"rules": [{"destinations": [{"region": FOREIGN, "registryId": a.id}]}]})
    o.passes(api["repositoryArn"], "IMG-004 BAK-004")
    o.fails(legacy["repositoryArn"], "IMG-004", "MUTABLE tags, no scan on push, registry scanning only for prod-*")
    o.fails(legacy["repositoryArn"], "BAK-004", "no lifecycle policy")
    o.fails(a.arn("ecr", PRIMARY, "registry#replication"), "RES-003", "registry replicates images to us-east-1")

    # ap-south-2: registry scanning of every repository covers a repository without scan on push.
    ecr2 = a.client("ecr", DR)
    dr = ecr2.create_repository(repositoryName="altscore-api-dr", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": False})["repository"]
    ecr2.put_lifecycle_policy(repositoryName="altscore-api-dr", lifecyclePolicyText=json.dumps(UNTAGGED_90))
    ecr2.put_registry_scanning_configuration(scanType="ENHANCED", rules=[{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}])
    ecr2.put_replication_configuration(replicationConfiguration={"rules": [{"destinations": [{"region": PRIMARY, "registryId": a.id}]}]})
    o.passes(dr["repositoryArn"], "IMG-004 BAK-004")
    o.passes(a.arn("ecr", DR, "registry#replication"), "RES-003")
    return {"api": api, "legacy": legacy, "dr": dr}


def readback_ecr(a, o):
    for region, repos in [(PRIMARY, {"altscore-api": ("IMMUTABLE", True, True), "altscore-legacy": ("MUTABLE", False, False)}),
                          (DR, {"altscore-api-dr": ("IMMUTABLE", False, True)})]:
        ecr = a.client("ecr", region)
        listed = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
        for name, (mutability, scan, has_policy) in repos.items():
            r = listed[name]
            o.must(f"ecr {name}", (r.get("imageTagMutability"), r.get("imageScanningConfiguration", {}).get("scanOnPush")), (mutability, scan))
            try:
                text = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
                policy_ok = json.loads(text) == UNTAGGED_90
            except ecr.exceptions.LifecyclePolicyNotFoundException:
                policy_ok = False
            o.must(f"ecr {name} lifecycle policy", policy_ok, has_policy)
        scanning = ecr.get_registry_scanning_configuration()["scanningConfiguration"]
        filters = [f["filter"] for r in scanning.get("rules", []) for f in r.get("repositoryFilters", [])]
        o.must(f"ecr registry scanning filters in {region}", filters, ["prod-*"] if region == PRIMARY else ["*"])
        destinations = [d["region"] for r in ecr.describe_registry().get("replicationConfiguration", {}).get("rules", []) for d in r.get("destinations", [])]
        o.must(f"ecr replication of {region}", destinations, [FOREIGN] if region == PRIMARY else [PRIMARY])


def certificate(domain, key_kind, days):
    """A self-signed certificate and its key, PEM: RSA-N or EC P-256, valid for `days` more."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    if key_kind == "EC_prime256v1":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(key_kind.split("_")[1]))
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def seed_acm(a, o):
    acm = a.client("acm", PRIMARY)
    certs = {}
    for domain, kind, days in [("api.altscore.in", "RSA_4096", 200), ("edge.altscore.in", "EC_prime256v1", 200),
                               ("legacy.altscore.in", "RSA_2048", 200), ("expiring.altscore.in", "EC_prime256v1", 5)]:
        cert, key = certificate(domain, kind, days)
        certs[domain] = {"arn": acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"], "kind": kind, "days": days}
    o.passes(certs["api.altscore.in"]["arn"], "TLS-002 TLS-006")
    o.passes(certs["edge.altscore.in"]["arn"], "TLS-002 TLS-006")
    o.fails(certs["legacy.altscore.in"]["arn"], "TLS-002", "RSA_2048 key")
    o.passes(certs["legacy.altscore.in"]["arn"], "TLS-006")
    o.fails(certs["expiring.altscore.in"]["arn"], "TLS-006", "expires in 5 days")
    o.passes(certs["expiring.altscore.in"]["arn"], "TLS-002")
    return certs


def readback_acm(a, o, certs):
    acm = a.client("acm", PRIMARY)
    every = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
    listed = [c["CertificateArn"] for page in acm.get_paginator("list_certificates").paginate(Includes={"keyTypes": every}) for c in page["CertificateSummaryList"]]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    for domain, c in certs.items():
        o.must(f"acm {domain} listed", c["arn"] in listed, True)
        d = acm.describe_certificate(CertificateArn=c["arn"])["Certificate"]
        o.must(f"acm {domain} KeyAlgorithm", d.get("KeyAlgorithm"), c["kind"])
        o.must(f"acm {domain} Status", d.get("Status"), "ISSUED")
        days = (d["NotAfter"].astimezone(datetime.timezone.utc).date() - today).days
        o.must(f"acm {domain} days left", days in (c["days"] - 1, c["days"]), True)


def seed_secrets(a, o, keys):
    sm = a.client("secretsmanager", PRIMARY)
    good = sm.create_secret(Name="altscore/prod/db", SecretString="test-only-value", KmsKeyId=keys["secrets"]["Arn"])["ARN"]
    sm.rotate_secret(SecretId=good, RotationRules={"AutomaticallyAfterDays": 30})
    bad = sm.create_secret(Name="altscore/legacy/token", SecretString="test-only-value")["ARN"]
    o.passes(good, "BAK-002 ENC-009")
    o.fails(bad, "BAK-002", "no rotation")
    o.fails(bad, "ENC-009", "no kms_key_id (the AWS-managed aws/secretsmanager key)")
    return {"good": good, "bad": bad, "key": keys["secrets"]["Arn"]}


def readback_secrets(a, o, out):
    sm = a.client("secretsmanager", PRIMARY)
    listed = {s["ARN"]: s for page in sm.get_paginator("list_secrets").paginate() for s in page["SecretList"]}
    o.must("secret good", (listed[out["good"]].get("RotationEnabled"), listed[out["good"]].get("KmsKeyId")), (True, out["key"]))
    o.must("secret bad", (bool(listed[out["bad"]].get("RotationEnabled")), listed[out["bad"]].get("KmsKeyId")), (False, None))


def seed_logs(a, o, keys):
    logs = a.client("logs", PRIMARY)
    arn = lambda name: a.arn("logs", PRIMARY, f"log-group:{name}")  # noqa: E731
    logs.create_log_group(logGroupName="/altscore/api", kmsKeyId=keys["logs"]["Arn"])
    logs.put_retention_policy(logGroupName="/altscore/api", retentionInDays=90)
    logs.create_log_group(logGroupName="/altscore/worker")
    logs.put_retention_policy(logGroupName="/altscore/worker", retentionInDays=30)
    logs.create_log_group(logGroupName="/altscore/legacy")
    o.passes(arn("/altscore/api"), "BAK-003 ENC-009")
    o.fails(arn("/altscore/worker"), "BAK-003", "retention 30 days")
    o.fails(arn("/altscore/worker"), "ENC-009", "no KMS key")
    o.fails(arn("/altscore/legacy"), "BAK-003", "never expires")
    o.fails(arn("/altscore/legacy"), "ENC-009", "no KMS key")
    return {"key": keys["logs"]["Arn"]}


def readback_logs(a, o, out):
    logs = a.client("logs", PRIMARY)
    groups = {g["logGroupName"]: g for page in logs.get_paginator("describe_log_groups").paginate() for g in page["logGroups"]}
    o.must("log group api", (groups["/altscore/api"].get("retentionInDays"), groups["/altscore/api"].get("kmsKeyId")), (90, out["key"]))
    o.must("log group worker", (groups["/altscore/worker"].get("retentionInDays"), groups["/altscore/worker"].get("kmsKeyId")), (30, None))
    o.must("log group legacy", (groups["/altscore/legacy"].get("retentionInDays"), groups["/altscore/legacy"].get("kmsKeyId")), (None, None))


def seed_elbv2(a, o, net, certs):
    elb = a.client("elbv2", PRIMARY)
    s, g = net["subnets"], net["groups"]
    subnets = [s["public-a"], s["public-b"]]
    prod = elb.create_load_balancer(Name="altscore-prod", Subnets=subnets, SecurityGroups=[g["alb"]], Scheme="internet-facing", Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    legacy = elb.create_load_balancer(Name="altscore-legacy", Subnets=subnets, SecurityGroups=[g["alb"]], Scheme="internet-facing", Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    target = elb.create_target_group(Name="altscore-api", Protocol="HTTP", Port=8080, VpcId=net["vpc"], TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    https = elb.create_listener(LoadBalancerArn=prod, Protocol="HTTPS", Port=443, SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                                Certificates=[{"CertificateArn": certs["api.altscore.in"]["arn"]}],
                                DefaultActions=[{"Type": "forward", "TargetGroupArn": target}])["Listeners"][0]["ListenerArn"]
    redirect = elb.create_listener(LoadBalancerArn=prod, Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])["Listeners"][0]["ListenerArn"]
    plain = elb.create_listener(LoadBalancerArn=legacy, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": target}])["Listeners"][0]["ListenerArn"]
    o.passes(prod, "TLS-001")
    o.passes(https, "TLS-001")
    o.passes(redirect, "TLS-001")
    o.fails(legacy, "TLS-001", "internet-facing ALB without an HTTPS 443 listener")
    o.fails(plain, "TLS-001", "HTTP listener forwarding instead of redirecting to HTTPS")
    return {"prod": prod, "legacy": legacy, "https": https, "redirect": redirect, "plain": plain, "cert": certs["api.altscore.in"]["arn"]}


def readback_elbv2(a, o, out):
    elb = a.client("elbv2", PRIMARY)
    balancers = {b["LoadBalancerArn"]: b for b in elb.describe_load_balancers()["LoadBalancers"]}
    for name in ["prod", "legacy"]:
        b = balancers[out[name]]
        o.must(f"alb {name}", (b.get("Scheme"), b.get("Type")), ("internet-facing", "application"))
    listeners = {x["ListenerArn"]: x for arn in (out["prod"], out["legacy"]) for x in elb.describe_listeners(LoadBalancerArn=arn)["Listeners"]}
    h = listeners[out["https"]]
    o.must("listener https", (h.get("Protocol"), h.get("Port"), h.get("SslPolicy"), [c["CertificateArn"] for c in h.get("Certificates", [])]),
           ("HTTPS", 443, "ELBSecurityPolicy-TLS13-1-2-2021-06", [out["cert"]]))
    r = listeners[out["redirect"]]
    o.must("listener redirect", (r.get("Protocol"), r["DefaultActions"][0].get("Type"), r["DefaultActions"][0].get("RedirectConfig", {}).get("Protocol")), ("HTTP", "redirect", "HTTPS"))
    p = listeners[out["plain"]]
    o.must("listener plain", (p.get("Protocol"), p["DefaultActions"][0].get("Type")), ("HTTP", "forward"))


def seed_backup(a, o, rds):
    backup = a.client("backup", PRIMARY)

    def plan(name, vault_region):
        vault = a.arn("backup", vault_region, f"backup-vault:altscore-{vault_region}")
        rule = {"RuleName": "daily", "TargetBackupVaultName": "Default", "ScheduleExpression": "cron(0 3 * * ? *)",
                "CopyActions": [{"DestinationBackupVaultArn": vault, "Lifecycle": {"DeleteAfterDays": 35}}]}
        return backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [rule]}), vault

    (india, india_vault), (us, us_vault) = plan("altscore-dr", DR), plan("altscore-copy-us", FOREIGN)
    o.passes(india["BackupPlanArn"], "RES-003")
    o.fails(us["BackupPlanArn"], "RES-003", "copies backups to a vault in us-east-1")

    # BAK-005: the prod database by ARN into a 7-year plan; the legacy one only by a tag it
    # does not carry, into a 1-year plan.
    def retained(name, days):
        rule = {"RuleName": "daily", "TargetBackupVaultName": "Default", "ScheduleExpression": "cron(0 3 * * ? *)", "Lifecycle": {"DeleteAfterDays": days}}
        return backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [rule]})["BackupPlanId"]

    # Moto has no backup selections: the proxy in front of it keeps them.
    selections = a.session.client("backup", region_name=PRIMARY, endpoint_url=os.environ["CG_AWS_PROXY_URL"], config=CONFIG)
    role = f"arn:aws:iam::{a.id}:role/backup"
    seven = retained("altscore-audit-7y", 2555)
    selections.create_backup_selection(BackupPlanId=seven, BackupSelection={"SelectionName": "prod", "IamRoleArn": role, "Resources": [rds["prod"]["DBInstanceArn"]]})
    year = retained("altscore-audit-1y", 365)
    tagged = {"SelectionName": "tagged", "IamRoleArn": role, "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "1y"}]}
    selections.create_backup_selection(BackupPlanId=year, BackupSelection=tagged)
    o.passes(rds["prod"]["DBInstanceArn"], "BAK-005")
    o.fails(rds["legacy"]["DBInstanceArn"], "BAK-005", "no 7-year AWS Backup plan selects it")
    return {"india": (india["BackupPlanId"], india_vault), "us": (us["BackupPlanId"], us_vault), "seven": (seven, rds["prod"]["DBInstanceArn"]), "selections": selections}


def readback_backup(a, o, out):
    backup = a.client("backup", PRIMARY)
    listed = [p["BackupPlanId"] for p in backup.list_backup_plans()["BackupPlansList"]]
    for name in ("india", "us"):
        plan_id, vault = out[name]
        o.must(f"backup plan {name} listed", plan_id in listed, True)
        rules = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"]
        o.must(f"backup plan {name} copy", [c["DestinationBackupVaultArn"] for r in rules for c in r.get("CopyActions", [])], [vault])
    seven, prod = out["seven"]
    selections = out["selections"].list_backup_selections(BackupPlanId=seven)["BackupSelectionsList"]
    o.must("backup selection prod listed", [s["SelectionName"] for s in selections], ["prod"])
    selected = out["selections"].get_backup_selection(BackupPlanId=seven, SelectionId=selections[0]["SelectionId"])["BackupSelection"]
    o.must("backup selection prod resources", selected.get("Resources"), [prod])


# ---------------------------------------------------------------------------------------------
# Account B


def seed_account_b(b, o):
    """A second account: a key, a log group (compliant), a security group open on 22."""
    key = kms_key(b, PRIMARY, "charterguard account B")
    o.passes(key["Arn"], "ENC-003 RES-001")
    logs = b.client("logs", PRIMARY)
    logs.create_log_group(logGroupName="/altscore-b/api", kmsKeyId=key["Arn"])
    logs.put_retention_policy(logGroupName="/altscore-b/api", retentionInDays=90)
    o.passes(b.arn("logs", PRIMARY, "log-group:/altscore-b/api"), "BAK-003 ENC-009")
    ec2 = b.client("ec2", PRIMARY)
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="b-bastion", Description="b-bastion", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    o.fails(b.arn("ec2", PRIMARY, f"security-group/{group}"), "NET-001", "account 111111111111: TCP 22 open to 0.0.0.0/0")
    o.fails(b.arn("ec2", PRIMARY, f"vpc/{vpc}"), "NET-005", "account 111111111111: VPC without an S3 gateway endpoint")
    return {"key": key, "vpc": vpc, "group": group}


def readback_account_b(b, o, out):
    kms = b.client("kms", PRIMARY)
    o.must("account B key listed", out["key"]["KeyId"] in [k["KeyId"] for k in kms.list_keys()["Keys"]], True)
    o.must("account B key arn account", out["key"]["Arn"].split(":")[4], ACCOUNT_B)
    groups = {g["GroupId"]: g for g in b.client("ec2", PRIMARY).describe_security_groups()["SecurityGroups"]}
    o.must("account B sg listed", out["group"] in groups, True)
    groups_a = [g["GroupId"] for g in account_a().client("ec2", PRIMARY).describe_security_groups()["SecurityGroups"]]
    o.must("account B sg invisible from account A", out["group"] in groups_a, False)


# ---------------------------------------------------------------------------------------------
# Terraform state (ENV-003)


def tfstate(path, o, managed):
    """A raw state (format 4) managing `managed`: (type, name, attributes) with `arn` and/or
    `id`, the identities the audit matches live resources by."""
    resources = [{"mode": "managed", "type": t, "name": n, "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                  "instances": [{"schema_version": 0, "attributes": attrs}]} for (t, n, attrs) in managed]
    state = {"version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "charterguard-moto-seed", "outputs": {}, "resources": resources}
    with open(path, "w") as f:
        json.dump(state, f, indent=2)


def charter(args):
    started = time.monotonic()
    state_path = None
    if args[:1] == ["--tfstate"] and len(args) == 2:
        state_path = args[1]
    elif args:
        sys.exit(f"aws_seed.py charter: unexpected arguments {args} (usage: charter [--tfstate PATH])")
    o = Oracle()
    a = account_a()
    b = account_b(a)

    keys = seed_kms(a, o)
    b_out = seed_account_b(b, o)
    b_key_holder = b_out["key"]
    seed_s3(a, b, o, keys, b_key_holder)
    net = seed_network(a, o)
    compute = seed_compute(a, o, keys, net)
    eks = seed_eks(a, o, keys, net)
    rds = seed_rds(a, o, keys, net)
    cache = seed_elasticache(a, o, keys, net)
    msk = seed_msk(a, o, keys, net)
    seed_ecr(a, o)
    certs = seed_acm(a, o)
    secrets = seed_secrets(a, o, keys)
    logs = seed_logs(a, o, keys)
    elbv2 = seed_elbv2(a, o, net, certs)
    backup = seed_backup(a, o, rds)

    readback_kms(a, o, keys)
    readback_buckets(a, b, o, keys, b_key_holder)
    readback_network(a, o, net)
    readback_compute(a, o, compute)
    readback_eks(a, o, eks)
    readback_rds(a, o, rds)
    readback_elasticache(a, o, cache)
    readback_msk(a, o, msk)
    readback_ecr(a, o)
    readback_acm(a, o, certs)
    readback_secrets(a, o, secrets)
    readback_logs(a, o, logs)
    readback_elbv2(a, o, elbv2)
    readback_backup(a, o, backup)
    readback_account_b(b, o, b_out)

    if state_path:
        # Terraform manages the prod bucket (by ARN), the main VPC (by id), the dst-001 key
        # (by ARN) and account B's key; the scratch bucket, the open bastion group and the
        # legacy database were made by hand.
        vpc_id = net["vpc"]
        tfstate(state_path, o, [
            ("aws_s3_bucket", "bronze_dst_001", {"id": "cg-bronze-dst-001", "arn": "arn:aws:s3:::cg-bronze-dst-001", "bucket": "cg-bronze-dst-001"}),
            ("aws_vpc", "main", {"id": vpc_id, "cidr_block": "10.0.0.0/16"}),
            ("aws_kms_key", "dst_001", {"id": keys["dst-001"]["KeyId"], "arn": keys["dst-001"]["Arn"]}),
            ("aws_kms_key", "account_b", {"id": b_key_holder["KeyId"], "arn": b_key_holder["Arn"]}),
            ("aws_db_instance", "prod", {"id": "db-PRODRESOURCEID", "arn": rds["prod"]["DBInstanceArn"], "identifier": "altscore-prod"}),
        ])
        for arn in ["arn:aws:s3:::cg-bronze-dst-001", a.arn("ec2", PRIMARY, f"vpc/{vpc_id}"), keys["dst-001"]["Arn"], b_key_holder["Arn"], rds["prod"]["DBInstanceArn"]]:
            o.passes(arn, "ENV-003")
        o.fails("arn:aws:s3:::cg-tmp-scratch", "ENV-003", "bucket no state manages")
        o.fails(a.arn("ec2", PRIMARY, f"security-group/{net['groups']['ssh']}"), "ENV-003", "security group no state manages")
        o.fails(rds["legacy"]["DBInstanceArn"], "ENV-003", "database no state manages")
        o.fails(keys["norotate"]["Arn"], "ENV-003", "KMS key no state manages")

    o.finish()
    role = lambda account: f"arn:aws:iam::{account}:role/{ROLE_NAME}"  # noqa: E731
    return {
        "accounts": [{"id": ACCOUNT_A, "role_arn": role(ACCOUNT_A), "regions": [PRIMARY, DR, FOREIGN]},
                     {"id": ACCOUNT_B, "role_arn": role(ACCOUNT_B), "regions": [PRIMARY]}],
        "expect": o.expect,
        "compliant": [{"arn": arn, "rules": rules} for arn, rules in o.compliant.items()],
        "unrepresentable": UNREPRESENTABLE,
        "quirks": QUIRKS,
        "tfstate": state_path,
        "readback_checks": len(o.checks),
        "seconds": round(time.monotonic() - started, 2),
    }


# ---------------------------------------------------------------------------------------------
# Environment isolation (ENV-005)

STAGING = "222222222222"  # another environment's account
OUTSIDE = "333333333333"  # an account no environment names


def grant(account, action, resource=None):
    """A statement allowing the root of `account` `action`."""
    statement = {"Sid": "Grant", "Effect": "Allow", "Principal": {"AWS": root(account)}, "Action": action}
    if resource:
        statement["Resource"] = resource
    return statement


def document(statement):
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def root(account):
    return f"arn:aws:iam::{account}:root"


def seed_isolation_policies(a, o):
    """A role, key, secret, repository and bucket of A granting the staging account (ENV-005
    violations), and the same granting the outside account or A itself (no finding)."""
    iam, kms, sm, ecr = a.client("iam"), a.client("kms"), a.client("secretsmanager"), a.client("ecr")
    out = {}
    for name, account in [("staging", STAGING), ("outside", OUTSIDE), ("own", a.id)]:
        role = iam.create_role(RoleName=f"cg-deployer-{name}", Path="/ci/", AssumeRolePolicyDocument=document(grant(account, "sts:AssumeRole")))["Role"]
        key = kms.create_key(Description=f"cg {name}", Policy=document(grant(account, "kms:*", "*")))["KeyMetadata"]
        secret = sm.create_secret(Name=f"cg/{name}/db", SecretString="test-only-value")["ARN"]
        sm.put_resource_policy(SecretId=secret, ResourcePolicy=document(grant(account, "secretsmanager:GetSecretValue", "*")))
        repository = ecr.create_repository(repositoryName=f"cg-{name}")["repository"]
        ecr.set_repository_policy(repositoryName=f"cg-{name}", policyText=document(grant(account, "ecr:BatchGetImage")))
        bucket_arn = bucket(a, PRIMARY, f"cg-isolation-{name}")
        policy(a, PRIMARY, f"cg-isolation-{name}", [grant(account, "s3:GetObject", f"{bucket_arn}/*")])
        arns = [role["Arn"], key["Arn"], secret, repository["repositoryArn"] + "#policy", bucket_arn]
        for arn in arns:
            if account == STAGING:
                o.fails(arn, "ENV-005", "grants the staging account")
            else:
                o.passes(arn, "ENV-005")
        out[name] = {"role": role["RoleName"], "key": key["KeyId"], "secret": secret, "repository": f"cg-{name}", "account": account}
    # A secret without a resource policy: nothing to judge.
    plain = sm.create_secret(Name="cg/plain", SecretString="test-only-value")["ARN"]
    o.passes(plain, "ENV-005")
    out["plain"] = plain
    return out


def readback_isolation_policies(a, o, out):
    iam, kms, sm, ecr = a.client("iam"), a.client("kms"), a.client("secretsmanager"), a.client("ecr")
    roles = {r["RoleName"]: r for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]}
    for name in ("staging", "outside", "own"):
        seeded = out[name]
        principal = [root(seeded["account"])]
        trusted = roles.get(seeded["role"], {}).get("AssumeRolePolicyDocument", {})
        if isinstance(trusted, str):  # percent-encoded, as IAM answers
            trusted = json.loads(urllib.parse.unquote(trusted))
        o.must(f"role {seeded['role']} trusts", [s["Principal"]["AWS"] for s in trusted.get("Statement", [])], principal)
        document = json.loads(kms.get_key_policy(KeyId=seeded["key"], PolicyName="default")["Policy"])
        o.must(f"key {name} policy", [s["Principal"]["AWS"] for s in document["Statement"]], principal)
        document = json.loads(sm.get_resource_policy(SecretId=seeded["secret"])["ResourcePolicy"])
        o.must(f"secret {name} policy", [s["Principal"]["AWS"] for s in document["Statement"]], principal)
        document = json.loads(ecr.get_repository_policy(repositoryName=seeded["repository"])["policyText"])
        o.must(f"repository {name} policy", [s["Principal"]["AWS"] for s in document["Statement"]], principal)
    o.must("secret without a policy", sm.get_resource_policy(SecretId=out["plain"]).get("ResourcePolicy"), None)


def seed_isolation_network(a, staging, outside, o):
    """VPC peerings of A with the staging account (active: a violation; deleted: gone), with
    the outside account and within A; Transit Gateway peerings of A with staging (pending: a
    violation; deleted: gone) and with the outside account."""
    ec2 = a.client("ec2", PRIMARY)
    arn = lambda kind, ident: a.arn("ec2", PRIMARY, f"{kind}/{ident}")  # noqa: E731
    vpc = lambda acct, cidr: acct.client("ec2", PRIMARY).create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]  # noqa: E731
    ours, own_other, theirs, foreign = vpc(a, "10.10.0.0/16"), vpc(a, "10.11.0.0/16"), vpc(staging, "10.20.0.0/16"), vpc(outside, "10.30.0.0/16")

    def peer(peer_vpc, owner):
        return ec2.create_vpc_peering_connection(VpcId=ours, PeerVpcId=peer_vpc, PeerOwnerId=owner, PeerRegion=PRIMARY)["VpcPeeringConnection"]["VpcPeeringConnectionId"]

    out = {"to_staging": peer(theirs, STAGING), "gone": peer(theirs, STAGING), "to_outside": peer(foreign, OUTSIDE), "within": peer(own_other, a.id)}
    staging.client("ec2", PRIMARY).accept_vpc_peering_connection(VpcPeeringConnectionId=out["to_staging"])
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=out["gone"])
    o.fails(arn("vpc-peering-connection", out["to_staging"]), "ENV-005", "VPC peering with the staging account")
    for name in ("to_outside", "within"):
        o.passes(arn("vpc-peering-connection", out[name]), "ENV-005")

    gateway = ec2.create_transit_gateway(Description="cg production")["TransitGateway"]["TransitGatewayId"]
    staging_gateway = staging.client("ec2", PRIMARY).create_transit_gateway(Description="cg staging")["TransitGateway"]["TransitGatewayId"]

    def attach(peer_gateway, account):
        return ec2.create_transit_gateway_peering_attachment(TransitGatewayId=gateway, PeerTransitGatewayId=peer_gateway, PeerAccountId=account,
                                                             PeerRegion=PRIMARY)["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]

    out["tgw_staging"], out["tgw_gone"], out["tgw_outside"] = attach(staging_gateway, STAGING), attach(staging_gateway, STAGING), attach("tgw-0123456789abcdef0", OUTSIDE)
    ec2.delete_transit_gateway_peering_attachment(TransitGatewayAttachmentId=out["tgw_gone"])
    o.fails(arn("transit-gateway-attachment", out["tgw_staging"]), "ENV-005", "Transit Gateway peering with the staging account")
    o.passes(arn("transit-gateway-attachment", out["tgw_outside"]), "ENV-005")
    return out


def readback_isolation_network(a, o, out):
    ec2 = a.client("ec2", PRIMARY)
    peerings = {p["VpcPeeringConnectionId"]: p for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]}
    seen = lambda pcx: (peerings[pcx]["Status"]["Code"], peerings[pcx]["RequesterVpcInfo"]["OwnerId"], peerings[pcx]["AccepterVpcInfo"]["OwnerId"])  # noqa: E731
    o.must("peering with staging", seen(out["to_staging"]), ("active", a.id, STAGING))
    o.must("deleted peering", seen(out["gone"])[0], "deleted")
    o.must("peering with the outside account", seen(out["to_outside"]), ("pending-acceptance", a.id, OUTSIDE))
    o.must("peering within the account", seen(out["within"]), ("pending-acceptance", a.id, a.id))
    attachments = {x["TransitGatewayAttachmentId"]: x for x in ec2.describe_transit_gateway_peering_attachments()["TransitGatewayPeeringAttachments"]}
    o.must("attachments listed", sorted(attachments), sorted([out["tgw_staging"], out["tgw_gone"], out["tgw_outside"]]))
    state = lambda tgw: (attachments[tgw]["State"], attachments[tgw]["RequesterTgwInfo"]["OwnerId"], attachments[tgw]["AccepterTgwInfo"]["OwnerId"])  # noqa: E731
    o.must("gateway peering with staging", state(out["tgw_staging"]), ("pendingAcceptance", a.id, STAGING))
    o.must("deleted gateway peering", state(out["tgw_gone"])[0], "deleted")
    o.must("gateway peering with the outside account", state(out["tgw_outside"]), ("pendingAcceptance", a.id, OUTSIDE))


def isolation(args):
    """Account A (production) with policies and network connections that reach the staging
    account 222222222222, the outside account 333333333333 (no environment names it) and A
    itself, in ap-south-1. Its oracle, like `charter`'s: `expect` is every ENV-005 violation
    of A (exactly), `compliant` the resources ENV-005 must say nothing about. moto cannot
    attach another account's VPC to a Transit Gateway (an attachment is created in the
    caller's account, whose gateway it must be), so there is no VPC attachment accepter here."""
    if args:
        sys.exit("usage: aws_seed.py isolation")
    started = time.monotonic()
    o = Oracle()
    a = account_a()
    staging, outside = assumed(a, STAGING), assumed(a, OUTSIDE)
    policies = seed_isolation_policies(a, o)
    network = seed_isolation_network(a, staging, outside, o)
    readback_isolation_policies(a, o, policies)
    readback_isolation_network(a, o, network)
    o.finish()
    return {
        "production": ACCOUNT_A, "staging": STAGING, "outside": OUTSIDE,
        "expect": o.expect,
        "compliant": [{"arn": arn, "rules": rules} for arn, rules in o.compliant.items()],
        "readback_checks": len(o.checks),
        "seconds": round(time.monotonic() - started, 2),
    }


# ---------------------------------------------------------------------------------------------
# Planted secrets


def secrets(args):
    """Resources in ap-south-1 of account A carrying the secrets a test plants (a JSON file:
    `bucket_tags`, `key_tags`, `db_tags`, `secret_tags` maps, `db_password`,
    `secret_string`): in tags, the only free text the audit reads, and where it never reads
    them (a master password, a secret's value). The bucket and database break rules, so the
    audit reports on them. Prints their ARNs."""
    if len(args) != 1:
        sys.exit("usage: aws_seed.py secrets PLANTED.json")
    with open(args[0]) as f:
        planted = json.load(f)
    a = account_a()
    tag_list = lambda tags: [{"Key": k, "Value": v} for k, v in tags.items()]  # noqa: E731
    bucket_arn = bucket(a, PRIMARY, "cg-planted-secrets", tags=planted["bucket_tags"])
    key = kms_key(a, PRIMARY, "planted secrets", tags=planted["key_tags"])
    db = a.client("rds", PRIMARY).create_db_instance(
        DBInstanceIdentifier="cg-planted-db", DBInstanceClass="db.t3.micro", Engine="postgres", EngineVersion="14.10", AllocatedStorage=20,
        MasterUsername="app", MasterUserPassword=planted["db_password"], PubliclyAccessible=True, Tags=tag_list(planted["db_tags"]))["DBInstance"]
    secret = a.client("secretsmanager", PRIMARY).create_secret(Name="cg/planted", SecretString=planted["secret_string"], Tags=tag_list(planted["secret_tags"]))["ARN"]
    return {"bucket": bucket_arn, "key": key["Arn"], "key_id": key["KeyId"], "db": db["DBInstanceArn"], "secret": secret}


# ---------------------------------------------------------------------------------------------
# Scale


def buckets(args):
    """N empty buckets in ap-south-1, created by 8 threads (moto serves each request on its
    own thread; more clients than cores only queue)."""
    if len(args) != 1 or not args[0].isdigit():
        sys.exit("usage: aws_seed.py buckets N")
    count = int(args[0])
    started = time.monotonic()
    a = account_a()
    local = threading.local()

    def create(i):
        if not hasattr(local, "s3"):
            local.s3 = boto3.session.Session().client("s3", region_name=PRIMARY, endpoint_url=endpoint(), config=CONFIG)
        local.s3.create_bucket(Bucket=f"cg-scale-{i:05d}", CreateBucketConfiguration={"LocationConstraint": PRIMARY})

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(count)))
    listed = [b["Name"] for b in a.client("s3").list_buckets()["Buckets"] if b["Name"].startswith("cg-scale-")]
    if len(listed) != count:
        sys.exit(f"aws_seed.py buckets: created {count}, ListBuckets shows {len(listed)}")
    return {"accounts": [{"id": ACCOUNT_A, "role_arn": None, "regions": [PRIMARY]}], "buckets": count, "seconds": round(time.monotonic() - started, 2)}


# ---------------------------------------------------------------------------------------------
# An organization


def org(args):
    """Account A creates an organization and N member accounts (moto gives them random ids).
    Members go round-robin to the root, OU `workloads` and OU `prod` inside it (nested, for
    --ou); every fifth member is closed (moto lists it SUSPENDED). Every account, the
    management one and the closed ones included, gets a bucket without encryption
    (`cg-org-<id>`, an ENC-001 violation): a closed account's bucket must never be reported.
    Seeded one call at a time: a boto3 session is not thread-safe, and with one shared
    session each call takes milliseconds."""
    if len(args) != 1 or not args[0].isdigit():
        sys.exit("usage: aws_seed.py org N")
    started = time.monotonic()
    a = account_a()
    client = a.client("organizations", "us-east-1")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    workloads = client.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    prod = client.create_organizational_unit(ParentId=workloads, Name="prod")["OrganizationalUnit"]["Id"]
    ous = {"root": root, "workloads": workloads, "prod": prod}
    accounts = [{"id": ACCOUNT_A, "name": "master", "status": "ACTIVE", "ou": "root"}]
    for i in range(int(args[0])):
        name = f"cg-member-{i:03d}"
        created = client.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
        ou = ["root", "workloads", "prod"][i % 3]
        if ou != "root":
            client.move_account(AccountId=created, SourceParentId=root, DestinationParentId=ous[ou])
        accounts.append({"id": created, "name": name, "status": "SUSPENDED" if i % 5 == 4 else "ACTIVE", "ou": ou})

    for account in accounts:
        acct = a if account["id"] == ACCOUNT_A else assumed(a, account["id"])
        account["bucket"] = bucket(acct, PRIMARY, f"cg-org-{account['id']}")
        if account["status"] == "SUSPENDED":
            client.close_account(AccountId=account["id"])
    listed = {}
    for page in client.get_paginator("list_accounts").paginate():
        listed.update({x["Id"]: x["Status"] for x in page["Accounts"]})
    wanted = {x["id"]: x["status"] for x in accounts}
    if listed != wanted:
        sys.exit(f"aws_seed.py org: ListAccounts answers {listed}, the oracle assumes {wanted}")
    return {"management": ACCOUNT_A, "ous": {"workloads": workloads, "prod": prod}, "accounts": accounts, "seconds": round(time.monotonic() - started, 2)}


# ---------------------------------------------------------------------------------------------
# Environments: production and staging accounts that mirror each other but for what is planted


MIRRORED_PRODUCTION = "210000000001"
MIRRORED_STAGING = "210000000002"


def environments(args):
    """Production and staging accounts (MIRRORED_PRODUCTION, MIRRORED_STAGING, reached with the audit's role),
    each with the same resources in ap-south-1, named after their environment
    (`altscore-prod-scores`, `altscore-staging-scores`), except what ENV-004 must find:
    staging's database is smaller and older, staging's API security group opens another port,
    and a production bucket has no staging counterpart. A VPC of production has no name: it
    cannot be matched. `expect` lists (rule, arn, why) of every ENV-004 violation;
    `undecided` the resources ENV-004 cannot match."""
    if args:
        sys.exit("usage: aws_seed.py environments")
    started = time.monotonic()
    a = account_a()
    accounts = {"prod": assumed(a, MIRRORED_PRODUCTION), "staging": assumed(a, MIRRORED_STAGING)}
    expect, made = [], {}
    for env, acct in accounts.items():
        ec2 = acct.client("ec2", PRIMARY)
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags(Name=f"altscore-{env}")}])["Vpc"]["VpcId"]
        groups = {}
        for name, port in [("api", 443 if env == "prod" else 8443), ("worker", 8080)]:
            group = ec2.create_security_group(GroupName=f"altscore-{env}-{name}", Description=name, VpcId=vpc)["GroupId"]
            ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.20.0.0/16"}]}])
            groups[name] = acct.arn("ec2", PRIMARY, f"security-group/{group}")
        klass, version = ("db.r6g.xlarge", "15.5") if env == "prod" else ("db.t3.medium", "14.10")
        db = acct.client("rds", PRIMARY).create_db_instance(
            DBInstanceIdentifier=f"altscore-{env}-scores", DBInstanceClass=klass, Engine="postgres", EngineVersion=version, MasterUsername="altscore",
            MasterUserPassword="not-a-secret-test-only", AllocatedStorage=100, StorageEncrypted=True)["DBInstance"]
        acct.client("logs", PRIMARY).create_log_group(logGroupName=f"/altscore/{env}/api")
        lake = bucket(acct, PRIMARY, f"altscore-{env}-lake-{acct.id}")
        made[env] = {"groups": groups, "db": db["DBInstanceArn"], "lake": lake, "log_group": acct.arn("logs", PRIMARY, f"log-group:/altscore/{env}/api")}
    reports = bucket(accounts["prod"], PRIMARY, f"altscore-prod-reports-{MIRRORED_PRODUCTION}")
    unnamed = accounts["prod"].client("ec2", PRIMARY).create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    staging = made["staging"]
    expect.append({"rule": "ENV-004", "arn": staging["db"], "why": "instance types: db.t3.medium, production db.r6g.xlarge"})
    expect.append({"rule": "ENV-004", "arn": staging["db"], "why": "versions: 14.10, production 15.5"})
    expect.append({"rule": "ENV-004", "arn": staging["groups"]["api"], "why": "security group rules: port 8443, production 443"})
    expect.append({"rule": "ENV-004", "arn": reports, "why": "production's bucket has no staging counterpart"})
    # What the older engine brings with it: staging's database uses default.postgres14.
    pg = accounts["prod"].arn("rds", PRIMARY, "pg:default.postgres15")
    expect.append({"rule": "ENV-004", "arn": pg, "why": "production's default parameter group has no staging counterpart (staging runs postgres 14)"})
    rds = accounts["staging"].client("rds", PRIMARY).describe_db_instances(DBInstanceIdentifier="altscore-staging-scores")["DBInstances"][0]
    if (rds["DBInstanceClass"], rds["EngineVersion"]) != ("db.t3.medium", "14.10"):
        sys.exit(f"aws_seed.py environments: moto answers {rds['DBInstanceClass']} {rds['EngineVersion']} for staging's database")
    return {
        "production": MIRRORED_PRODUCTION,
        "staging": MIRRORED_STAGING,
        "role_arns": [f"arn:aws:iam::{account}:role/{ROLE_NAME}" for account in (MIRRORED_PRODUCTION, MIRRORED_STAGING)],
        "expect": expect,
        "mirrored": [[made["prod"][k], staging[k]] for k in ("lake", "log_group")] + [[made["prod"]["groups"]["worker"], staging["groups"]["worker"]]],
        "undecided": [accounts["prod"].arn("ec2", PRIMARY, f"vpc/{unnamed}")],
        "seconds": round(time.monotonic() - started, 2),
    }


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: aws_seed.py charter [--tfstate PATH] | buckets N | secrets PLANTED.json | org N | environments | isolation")
    scenario, args = sys.argv[1], sys.argv[2:]
    scenarios = {"charter": charter, "buckets": buckets, "secrets": secrets, "org": org, "environments": environments, "isolation": isolation}
    if scenario not in scenarios:
        sys.exit(f"aws_seed.py: unknown scenario {scenario!r} (known: {', '.join(scenarios)})")
    print(json.dumps(scenarios[scenario](args), indent=1))


if __name__ == "__main__":
    main()
