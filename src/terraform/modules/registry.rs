//! The Terraform module registry protocol, as `terraform init` speaks it: service discovery
//! (`https://HOST/.well-known/terraform.json` names the `modules.v1` base URL, possibly
//! relative), `GET BASE/NS/NAME/PROVIDER/versions`, the highest version the call's `version`
//! accepts, and `GET BASE/NS/NAME/PROVIDER/VERSION/download`, whose `X-Terraform-Get` header
//! (or JSON `location`) is the go-getter address of the package.

use super::http::Client;
use super::version::Constraints;
use std::collections::HashMap;
use std::sync::Mutex;

/// The host of `NAMESPACE/NAME/PROVIDER` sources without one.
pub const DEFAULT_HOST: &str = "registry.terraform.io";

/// `[HOST/]NAMESPACE/NAME/PROVIDER[//SUBDIR]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub namespace: String,
    pub name: String,
    pub provider: String,
    /// The directory of the module inside the package, `""` for its root.
    pub subdir: String,
}

impl Address {
    /// The registry address a module source is, if it is one (Terraform tries local paths
    /// first, then registry addresses, then go-getter addresses).
    pub fn parse(source: &str) -> Option<Address> {
        if source.contains("::") || source.contains("://") {
            return None;
        }
        let (package, subdir) = source.split_once("//").unwrap_or((source, ""));
        let parts: Vec<&str> = package.split('/').collect();
        let (host, rest) = match parts.as_slice() {
            [namespace, name, provider] => (DEFAULT_HOST, [*namespace, *name, *provider]),
            [host, namespace, name, provider] if is_registry_host(host) => (*host, [*namespace, *name, *provider]),
            _ => return None,
        };
        let [namespace, name, provider] = rest;
        if !(is_name(namespace) && is_name(name) && is_provider(provider)) {
            return None;
        }
        let (namespace, name, provider, subdir) = (namespace.to_string(), name.to_string(), provider.to_string(), subdir.trim_matches('/').to_string());
        Some(Address { host: host.to_ascii_lowercase(), namespace, name, provider, subdir })
    }

    /// `HOST/NAMESPACE/NAME/PROVIDER`, as modules.json records it (without the subdirectory).
    pub fn package(&self) -> String {
        format!("{}/{}/{}/{}", self.host, self.namespace, self.name, self.provider)
    }
}

/// A host name with an optional port; GitHub and Bitbucket are go-getter shorthands instead.
fn is_registry_host(host: &str) -> bool {
    let (name, port) = host.split_once(':').unwrap_or((host, "0"));
    let labels_ok = name.split('.').all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    labels_ok && port.parse::<u16>().is_ok() && !matches!(name.to_ascii_lowercase().as_str(), "github.com" | "bitbucket.org")
}

/// A namespace or module name: letters, digits, `-` and `_`, not at either end, 64 at most.
fn is_name(text: &str) -> bool {
    let ok_inside = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    (1..=64).contains(&text.len())
        && text.chars().all(ok_inside)
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_provider(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// The version chosen for a call and where its package is.
pub struct Located {
    pub version: String,
    /// A go-getter address: `git::https://...?ref=v1`, `https://.../x.tar.gz`, ...
    pub location: String,
}

/// The registries asked during one scan: each host is discovered once.
#[derive(Default)]
pub struct Registries {
    discovered: Mutex<HashMap<String, Result<String, String>>>,
}

impl Registries {
    /// The version of `address` that `constraints` accepts, and where to download it.
    pub fn locate(&self, client: &Client, address: &Address, constraints: &Constraints) -> Result<Located, String> {
        let base = self.modules_base(client, &address.host)?;
        let module = format!("{base}{}/{}/{}", address.namespace, address.name, address.provider);
        let versions = client.json(&format!("{module}/versions"))?;
        let listed: Vec<&str> =
            versions["modules"].get(0).and_then(|m| m["versions"].as_array()).into_iter().flatten().filter_map(|v| v["version"].as_str()).collect();
        let Some(version) = constraints.highest(listed.iter().copied()) else {
            return Err(format!("no version of {} meets the call's version constraint; the registry has {}", address.package(), listed.join(", ")));
        };
        let download = format!("{module}/{version}/download");
        let response = client.get(&download, 1024 * 1024)?;
        let location = match response.location_header {
            Some(location) => location,
            None => serde_json::from_slice::<serde_json::Value>(&response.body)
                .ok()
                .and_then(|body| body["location"].as_str().map(str::to_string))
                .ok_or_else(|| format!("GET {download}: no X-Terraform-Get header nor location in the answer"))?,
        };
        Ok(Located { version: version.to_string(), location: resolve_download(&download, &location) })
    }

    /// The `modules.v1` base URL of `host`, ending in `/`.
    fn modules_base(&self, client: &Client, host: &str) -> Result<String, String> {
        let mut discovered = self.discovered.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        discovered.entry(host.to_string()).or_insert_with(|| discover(client, host)).clone()
    }
}

fn discover(client: &Client, host: &str) -> Result<String, String> {
    let url = format!("https://{host}/.well-known/terraform.json");
    let services = client.json(&url)?;
    let modules = services["modules.v1"].as_str().ok_or_else(|| format!("{host} is not a module registry: {url} names no modules.v1 service"))?;
    let base = resolve_reference(&url, modules);
    Ok(if base.ends_with('/') { base } else { format!("{base}/") })
}

/// `X-Terraform-Get` is a go-getter address, resolved against the download URL only when it
/// looks like a relative URL (`/x`, `./x`, `../x`), as Terraform does.
fn resolve_download(download: &str, location: &str) -> String {
    if ["/", "./", "../"].iter().any(|prefix| location.starts_with(prefix)) {
        resolve_reference(download, location)
    } else {
        location.to_string()
    }
}

/// A URL reference resolved against an absolute `base` URL (RFC 3986, for the forms
/// registries answer with: absolute, `//host/x`, `/x`, `x`, `./x`, `../x`).
pub fn resolve_reference(base: &str, reference: &str) -> String {
    if reference.contains("://") {
        return reference.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    if let Some(network_path) = reference.strip_prefix("//") {
        return format!("{scheme}://{network_path}");
    }
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let (reference_path, query) = match reference.find(['?', '#']) {
        Some(at) => reference.split_at(at),
        None => (reference, ""),
    };
    let joined =
        if reference_path.starts_with('/') { reference_path.to_string() } else { format!("{}{reference_path}", &path[..path.rfind('/').map_or(0, |i| i + 1)]) };
    format!("{scheme}://{authority}{}{query}", remove_dot_segments(&joined))
}

/// `/a/b/../c/./d` is `/a/c/d`.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => {}
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
            }
            other => out.push(other),
        }
        // A path ending in `.` or `..` names a directory.
        if i == segments.len() - 1 && matches!(*segment, "." | "..") {
            out.push("");
        }
    }
    let joined = out.join("/");
    if path.starts_with('/') && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_addresses_are_told_from_other_sources() {
        let s3 = Address::parse("terraform-aws-modules/s3-bucket/aws").unwrap();
        assert_eq!(s3.package(), "registry.terraform.io/terraform-aws-modules/s3-bucket/aws");
        let iam = Address::parse("app.terraform.io/acme/iam/aws//modules/role/").unwrap();
        assert_eq!((iam.host.as_str(), iam.subdir.as_str()), ("app.terraform.io", "modules/role"));
        assert_eq!(Address::parse("localhost:8443/acme/b/aws").unwrap().host, "localhost:8443");
        assert_eq!(Address::parse("registry.opentofu.org/acme/b/aws").unwrap().host, "registry.opentofu.org");
        for other in [
            "github.com/hashicorp/example/aws",
            "git::https://example.com/x.git",
            "https://example.com/x.zip",
            "acme/b",
            "acme/b/AWS",
            "-acme/b/aws",
            "a/b/c/d/e",
            "./local/x/y",
        ] {
            assert_eq!(Address::parse(other), None, "{other}");
        }
    }

    #[test]
    fn references_resolve_like_urls() {
        let base = "https://reg.example.com/.well-known/terraform.json";
        assert_eq!(resolve_reference(base, "/v1/modules/"), "https://reg.example.com/v1/modules/");
        assert_eq!(resolve_reference(base, "v1/modules/"), "https://reg.example.com/.well-known/v1/modules/");
        assert_eq!(resolve_reference(base, "https://other.example.com/m/"), "https://other.example.com/m/");
        assert_eq!(resolve_reference(base, "//cdn.example.com/m/"), "https://cdn.example.com/m/");
        let download = "https://reg.example.com/v1/modules/acme/b/aws/1.0.0/download";
        assert_eq!(
            resolve_download(download, "../../files/b.tar.gz?archive=tar.gz"),
            "https://reg.example.com/v1/modules/acme/b/files/b.tar.gz?archive=tar.gz"
        );
        assert_eq!(resolve_download(download, "./b.zip"), "https://reg.example.com/v1/modules/acme/b/aws/1.0.0/b.zip");
        assert_eq!(resolve_download(download, "/files/b.tgz"), "https://reg.example.com/files/b.tgz");
        assert_eq!(resolve_download(download, "git::https://example.com/b.git?ref=v1.0.0"), "git::https://example.com/b.git?ref=v1.0.0");
        assert_eq!(resolve_download(download, "github.com/acme/b"), "github.com/acme/b", "a go-getter shorthand, not a relative URL");
    }
}
