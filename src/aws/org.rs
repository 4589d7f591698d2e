//! `audit aws --org`: the accounts of an AWS Organization (all of them, or those under some
//! OUs, nested OUs included), each audited through a role of one name. Accounts that are not
//! active (suspended, closed, pending closure) cannot be audited and are named in a note; an
//! organization that cannot be listed is an error, never an audit of nothing that passes.

use super::call::{Counting, Failure};
use crate::model::Diagnostic;
use aws_config::SdkConfig;
use aws_sdk_organizations::Client;

/// `--org` and the options that narrow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    /// `--org-role`: the role assumed in every account.
    pub role: String,
    /// `--ou` (repeatable): only accounts under these OUs; empty: the whole organization.
    pub ous: Vec<String>,
    /// `--accounts`: only these account ids; empty: every account listed.
    pub accounts: Vec<String>,
}

impl Org {
    pub const DEFAULT_ROLE: &str = "charterguard-audit";
}

/// An account as Organizations lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Member {
    id: String,
    name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`, ...
    state: String,
}

/// The roles to assume (one ARN per account to audit) and what to report about the accounts
/// left out. When the organization cannot be listed there is nothing to audit, and an error
/// says why.
pub async fn roles(base: &SdkConfig, org: &Org, partition: &str, counter: &Counting) -> (Vec<String>, Vec<Diagnostic>) {
    match members(base, org, counter).await {
        Ok(members) => select(members, org, partition),
        Err(failure) => {
            let message = format!(
                "{failure}; --org needs AWS Organizations read access (organizations:ListAccounts, ListAccountsForParent, \
                 ListOrganizationalUnitsForParent) from the management account or a delegated administrator: no account was audited"
            );
            (Vec::new(), vec![Diagnostic::error("", None, message)])
        }
    }
}

/// Every account of the organization, or of the `--ou`s and the OUs nested in them.
async fn members(base: &SdkConfig, org: &Org, counter: &Counting) -> Result<Vec<Member>, Failure> {
    let client = Client::from_conf(aws_sdk_organizations::config::Builder::from(base).interceptor(counter.clone()).build());
    if org.ous.is_empty() {
        return list_accounts(&client).await;
    }
    let mut members = Vec::new();
    let mut parents = org.ous.clone();
    while let Some(parent) = parents.pop() {
        members.extend(accounts_for_parent(&client, &parent).await?);
        parents.extend(child_ous(&client, &parent).await?);
    }
    Ok(members)
}

async fn list_accounts(client: &Client) -> Result<Vec<Member>, Failure> {
    let mut pages = client.list_accounts().into_paginator().send();
    let mut members = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Failure::of("organizations:ListAccounts", &e))?;
        members.extend(page.accounts().iter().map(member));
    }
    Ok(members)
}

async fn accounts_for_parent(client: &Client, parent: &str) -> Result<Vec<Member>, Failure> {
    let mut pages = client.list_accounts_for_parent().parent_id(parent).into_paginator().send();
    let mut members = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Failure::of("organizations:ListAccountsForParent", &e))?;
        members.extend(page.accounts().iter().map(member));
    }
    Ok(members)
}

async fn child_ous(client: &Client, parent: &str) -> Result<Vec<String>, Failure> {
    let mut pages = client.list_organizational_units_for_parent().parent_id(parent).into_paginator().send();
    let mut children = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Failure::of("organizations:ListOrganizationalUnitsForParent", &e))?;
        children.extend(page.organizational_units().iter().filter_map(|ou| ou.id().map(str::to_string)));
    }
    Ok(children)
}

/// An account's state: `State`, or the older `Status` (retired by AWS in September 2026, which
/// organizations read through older endpoints and emulators may still answer alone).
fn member(account: &aws_sdk_organizations::types::Account) -> Member {
    let state = match (account.state(), account.status()) {
        (Some(state), _) => state.as_str().to_string(),
        (None, Some(status)) => status.as_str().to_string(),
        (None, None) => "UNKNOWN".to_string(),
    };
    Member { id: account.id().unwrap_or_default().to_string(), name: account.name().unwrap_or_default().to_string(), state }
}

/// The role ARNs of the active accounts (narrowed to `--accounts`), a note for each account
/// left out because it is not active, and an error for each `--accounts` id not listed.
fn select(mut members: Vec<Member>, org: &Org, partition: &str) -> (Vec<String>, Vec<Diagnostic>) {
    members.sort_by(|a, b| a.id.cmp(&b.id));
    members.dedup_by(|a, b| a.id == b.id);
    let within = if org.ous.is_empty() { "the organization".to_string() } else { format!("the organization under {}", org.ous.join(", ")) };
    let mut diagnostics = Vec::new();
    if members.is_empty() {
        diagnostics.push(Diagnostic::error("", None, format!("AWS Organizations lists no account in {within}: no account was audited")));
    }
    for id in org.accounts.iter().filter(|id| !members.iter().any(|m| &m.id == *id)) {
        diagnostics.push(Diagnostic::error("", None, format!("--accounts {id}: no such account in {within}")));
    }
    let mut roles = Vec::new();
    for m in members.iter().filter(|m| org.accounts.is_empty() || org.accounts.contains(&m.id)) {
        if m.state == "ACTIVE" {
            roles.push(format!("arn:{partition}:iam::{}:role/{}", m.id, org.role));
        } else {
            diagnostics.push(Diagnostic::note("", None, format!("account {} ({}) is {} in the organization: not audited", m.id, m.name, m.state)));
        }
    }
    (roles, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, state: &str) -> Member {
        Member { id: id.into(), name: format!("n{id}"), state: state.into() }
    }

    fn org(accounts: &[&str]) -> Org {
        Org { role: "audit".into(), ous: vec!["ou-1".into()], accounts: accounts.iter().map(|a| a.to_string()).collect() }
    }

    #[test]
    fn active_accounts_are_audited_and_the_others_named() {
        let members =
            vec![member("222222222222", "ACTIVE"), member("111111111111", "SUSPENDED"), member("222222222222", "ACTIVE"), member("333333333333", "CLOSED")];
        let (roles, diagnostics) = select(members, &org(&[]), "aws");
        assert_eq!(roles, ["arn:aws:iam::222222222222:role/audit"], "once, though two OUs listed it");
        let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "account 111111111111 (n111111111111) is SUSPENDED in the organization: not audited",
                "account 333333333333 (n333333333333) is CLOSED in the organization: not audited"
            ]
        );
        assert!(diagnostics.iter().all(|d| !d.is_error()));
    }

    #[test]
    fn accounts_narrow_and_an_unknown_id_is_an_error() {
        let members = vec![member("111111111111", "ACTIVE"), member("222222222222", "ACTIVE")];
        let (roles, diagnostics) = select(members, &org(&["222222222222", "999999999999"]), "aws-cn");
        assert_eq!(roles, ["arn:aws-cn:iam::222222222222:role/audit"]);
        assert_eq!(diagnostics.len(), 1);
        assert!(diagnostics[0].is_error());
        assert_eq!(diagnostics[0].message, "--accounts 999999999999: no such account in the organization under ou-1");
    }

    #[test]
    fn an_empty_listing_is_an_error() {
        let (roles, diagnostics) = select(Vec::new(), &org(&[]), "aws");
        assert!(roles.is_empty());
        assert!(diagnostics[0].is_error() && diagnostics[0].message.contains("lists no account"), "{diagnostics:?}");
    }
}
