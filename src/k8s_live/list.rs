//! Listing one kind, page by page (`limit`/`continue`), across all namespaces; when the
//! credentials may not list it cluster-wide, namespace by namespace. What could not be listed
//! is kept as a [`Gap`], never silently left out.

use super::call::{Api, Failure};
use super::kinds::ApiKind;
use super::secrets::SecretWithoutValues;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::api::ListParams;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What listing one kind gave.
#[derive(Debug)]
pub struct Listing {
    pub kind: ApiKind,
    /// The list items as the API returned them (without `apiVersion` and `kind`, which list
    /// items do not carry); Secrets without their values.
    pub objects: Vec<Value>,
    pub gaps: Vec<Gap>,
    pub pages: u64,
    /// The list's `resourceVersion`: where a watch of what changed since starts.
    pub resource_version: Option<String>,
}

/// A part of a kind that could not be listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// `None`: every namespace (or the kind is cluster-scoped).
    pub namespace: Option<String>,
    pub failure: Failure,
}

/// A list item as it is kept.
trait Item: DeserializeOwned {
    fn into_object(self) -> Value;
}

impl Item for Value {
    fn into_object(self) -> Value {
        self
    }
}

impl Item for SecretWithoutValues {
    fn into_object(self) -> Value {
        SecretWithoutValues::into_object(self)
    }
}

#[derive(serde::Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Page<T> {
    #[serde(default)]
    items: Option<Vec<T>>,
    #[serde(default)]
    metadata: ListMeta,
}

/// Lists `kind`. `namespaces`: the cluster's namespaces, when known, for listing namespace by
/// namespace what may not be listed cluster-wide.
pub async fn list_kind(api: &Api, kind: &ApiKind, namespaces: Option<&[String]>, page_size: u32) -> Listing {
    match kind.kind.as_str() {
        "Secret" => list_items::<SecretWithoutValues>(api, kind, namespaces, page_size).await,
        _ => list_items::<Value>(api, kind, namespaces, page_size).await,
    }
}

async fn list_items<T: Item>(api: &Api, kind: &ApiKind, namespaces: Option<&[String]>, page_size: u32) -> Listing {
    let mut listing = Listing { kind: kind.clone(), objects: Vec::new(), gaps: Vec::new(), pages: 0, resource_version: None };
    let failure = match list_scope::<T>(api, &mut listing, None, page_size).await {
        Ok(()) => return listing,
        Err(failure) => failure,
    };
    match namespaces {
        Some(namespaces) if kind.namespaced && failure.is_forbidden() => {
            for namespace in namespaces {
                if let Err(failure) = list_scope::<T>(api, &mut listing, Some(namespace), page_size).await {
                    listing.gaps.push(Gap { namespace: Some(namespace.clone()), failure });
                }
            }
        }
        _ => listing.gaps.push(Gap { namespace: None, failure }),
    }
    listing
}

/// Lists every page of one scope into `listing`. Items of the pages before a failure are kept:
/// they are real objects, and the failure is reported for the scope.
async fn list_scope<T: Item>(api: &Api, listing: &mut Listing, namespace: Option<&str>, page_size: u32) -> Result<(), Failure> {
    let path = listing.kind.list_path(namespace);
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default().limit(page_size.max(1));
        if let Some(token) = &token {
            params = params.continue_token(token);
        }
        let (client, path, params) = (api.client(), path.as_str(), &params);
        let page: Page<T> = api
            .call(move || async move {
                let request = kube::core::Request::new(path).list(params).map_err(kube::Error::BuildRequest)?;
                client.request::<Page<T>>(request).await
            })
            .await?;
        listing.pages += 1;
        listing.resource_version = page.metadata.resource_version.clone();
        listing.objects.extend(page.items.unwrap_or_default().into_iter().map(Item::into_object));
        match page.metadata.continue_.filter(|next| !next.is_empty()) {
            Some(next) if token.as_ref() == Some(&next) => {
                let message = format!("the server answered page {} of {path} with the same continue token again", listing.pages);
                return Err(Failure::protocol(message));
            }
            Some(next) => token = Some(next),
            None => return Ok(()),
        }
    }
}
