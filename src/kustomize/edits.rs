//! Argo CD's `spec.source.kustomize`, applied as Argo CD applies it.
//!
//! Argo CD runs `kustomize edit set image / nameprefix / namesuffix / namespace` and `kustomize
//! edit add label / annotation --force` in the application's directory, then builds it. Those
//! commands rewrite the directory's own kustomization: `namePrefix`, `nameSuffix` and
//! `namespace` are replaced, `images` entries of the same name merged, labels and annotations
//! added over existing keys. A kustomization wrapping the directory would not be the same: its
//! prefix would be added to the directory's own, and its `images:` entry would not see an
//! image the directory's entry already renamed.
//!
//! So the edited kustomization is written to a temporary directory, next to copies of the files
//! it reads itself (kustomize's load restrictions keep those under its directory, so they are
//! few and small), with the directories it builds on (bases, components) named by relative
//! paths back to where they are: kustomize refuses absolute ones. Nothing in the repository is
//! written, and kustomize's restrictions are the same as in place (a file outside the
//! directory is refused either way).

use super::survey::{canonical, Kustomization, Target};
use crate::model::Span;
use serde_json::{json, Map, Value as Json};
use std::path::{Component, Path, PathBuf};

/// What Argo CD's `spec.source.kustomize` asks for.
#[derive(Default, Clone, Debug)]
pub struct Edits {
    /// `kustomize edit set image` arguments: `name=newName:tag`, `name=newName@digest`,
    /// `name=newName`, `name:tag`, `name@digest`.
    pub images: Vec<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub namespace: Option<String>,
    pub common_labels: Vec<(String, String)>,
    pub common_annotations: Vec<(String, String)>,
    /// Where the edits are written (the Application's `spec.source.kustomize`): attributes
    /// whose value an edit set point here.
    pub span: Option<Span>,
}

/// One `kustomize edit set image` argument, read as kustomize reads it.
#[derive(Clone, Debug, PartialEq, Default)]
pub(super) struct Image {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
            && self.name_prefix.is_none()
            && self.name_suffix.is_none()
            && self.namespace.is_none()
            && self.common_labels.is_empty()
            && self.common_annotations.is_empty()
    }

    pub(super) fn parsed_images(&self) -> Vec<Image> {
        self.images.iter().map(|arg| parse_image(arg)).collect()
    }

    /// The kustomization `k` as these edits leave it, as JSON (which is YAML).
    fn edited(&self, k: &Kustomization) -> Json {
        let mut root = match k.root.to_json() {
            Json::Object(map) => map,
            _ => Map::new(),
        };
        for (key, value) in [("namePrefix", &self.name_prefix), ("nameSuffix", &self.name_suffix), ("namespace", &self.namespace)] {
            if let Some(value) = value {
                root.insert(key.into(), json!(value));
            }
        }
        for (key, pairs) in [("commonLabels", &self.common_labels), ("commonAnnotations", &self.common_annotations)] {
            if !pairs.is_empty() {
                let map = root.entry(key).or_insert_with(|| json!({}));
                if let Json::Object(map) = map {
                    map.extend(pairs.iter().map(|(k, v)| (k.clone(), json!(v))));
                }
            }
        }
        if !self.images.is_empty() {
            let existing = root.remove("images").and_then(|v| if let Json::Array(items) = v { Some(items) } else { None }).unwrap_or_default();
            root.insert("images".into(), Json::Array(merge_images(existing, self.parsed_images())));
        }
        Json::Object(root)
    }

    /// Writes the edited kustomization `k` into `into` (a fresh directory) with copies of the
    /// files it reads itself: `kubectl kustomize into` then builds what Argo CD builds.
    pub(super) fn write(&self, k: &Kustomization, into: &Path) -> std::io::Result<()> {
        let into = canonical(into);
        let mut edited = self.edited(k);
        let mut moved: Vec<(String, String)> = Vec::new();
        for reference in k.references() {
            let target = match &reference.target {
                Target::Dir(dir) => dir,
                Target::File(file) => match file.strip_prefix(&k.dir) {
                    Ok(inside) if file.is_file() => {
                        let copy = into.join(inside);
                        std::fs::create_dir_all(copy.parent().unwrap_or(&into))?;
                        std::fs::copy(file, copy)?;
                        continue;
                    }
                    _ => file,
                },
                Target::Remote(_) => continue,
            };
            moved.push((reference.text.clone(), relative(target, &into)));
        }
        rename_paths(&mut edited, &moved);
        std::fs::write(into.join("kustomization.yaml"), serde_json::to_string_pretty(&edited).unwrap_or_default())
    }
}

/// `name=newName:tag`, `name=newName@digest`, `name:tag`, `name@digest` as `kustomize edit set
/// image` reads them.
fn parse_image(arg: &str) -> Image {
    let (name, new) = match arg.split_once('=') {
        Some((name, new)) => (name.to_string(), new),
        None => (String::new(), arg),
    };
    let (reference, digest) = match new.split_once('@') {
        Some((reference, digest)) => (reference, Some(digest.to_string())),
        None => (new, None),
    };
    let (image, tag) = match reference.rfind(':') {
        Some(colon) if !reference[colon..].contains('/') => (&reference[..colon], Some(reference[colon + 1..].to_string())),
        _ => (reference, None),
    };
    if name.is_empty() {
        Image { name: image.to_string(), new_name: None, new_tag: tag, digest }
    } else {
        Image { name, new_name: Some(image.to_string()), new_tag: tag, digest }
    }
}

/// `kustomize edit set image`'s merge: an entry of the same name keeps what the argument does
/// not set; a new tag drops the digest and a new digest the tag.
fn merge_images(existing: Vec<Json>, edits: Vec<Image>) -> Vec<Json> {
    let mut out = existing;
    for image in edits {
        let index = out.iter().position(|e| e.get("name").and_then(Json::as_str) == Some(image.name.as_str()));
        let entry = match index {
            Some(i) => &mut out[i],
            None => {
                out.push(json!({ "name": image.name }));
                out.last_mut().expect("just pushed")
            }
        };
        let Json::Object(entry) = entry else { continue };
        if let Some(new_name) = image.new_name {
            entry.insert("newName".into(), json!(new_name));
        }
        if let Some(tag) = image.new_tag {
            entry.insert("newTag".into(), json!(tag));
            entry.remove("digest");
        }
        if let Some(digest) = image.digest {
            entry.insert("digest".into(), json!(digest));
            entry.remove("newTag");
        }
    }
    out
}

/// Replaces every string of the kustomization that is a path entry in `moved` (written as
/// it was) by its new text.
fn rename_paths(value: &mut Json, moved: &[(String, String)]) {
    match value {
        Json::String(text) => {
            if let Some((_, new)) = moved.iter().find(|(old, _)| old == text) {
                *text = new.clone();
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|item| rename_paths(item, moved)),
        Json::Object(map) => map.iter_mut().for_each(|(_, item)| rename_paths(item, moved)),
        _ => {}
    }
}

/// `target` relative to the directory `from` (both absolute).
fn relative(target: &Path, from: &Path) -> String {
    let target: Vec<Component> = target.components().collect();
    let from: Vec<Component> = from.components().collect();
    let common = target.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    from[common..].iter().for_each(|_| out.push(".."));
    target[common..].iter().for_each(|c| out.push(c));
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_arguments_read_as_kustomize_reads_them() {
        let image = |name: &str, new_name: Option<&str>, tag: Option<&str>, digest: Option<&str>| Image {
            name: name.into(),
            new_name: new_name.map(Into::into),
            new_tag: tag.map(Into::into),
            digest: digest.map(Into::into),
        };
        assert_eq!(parse_image("nginx=my.registry:5000/nginx:1.2"), image("nginx", Some("my.registry:5000/nginx"), Some("1.2"), None));
        assert_eq!(parse_image("registry.example.com/web:2.0"), image("registry.example.com/web", None, Some("2.0"), None));
        assert_eq!(parse_image("web@sha256:abc"), image("web", None, None, Some("sha256:abc")));
        assert_eq!(parse_image("web=other/web"), image("web", Some("other/web"), None, None));
        assert_eq!(parse_image("localhost:5000/web"), image("localhost:5000/web", None, None, None));
    }

    #[test]
    fn image_edits_merge_into_entries_of_the_same_name() {
        let existing = vec![json!({"name": "web", "newName": "mirror/web", "digest": "sha256:1"}), json!({"name": "db", "newTag": "5"})];
        let merged = merge_images(existing, vec![parse_image("web:2.0"), parse_image("cache=redis:7")]);
        assert_eq!(
            merged,
            [
                json!({"name": "web", "newName": "mirror/web", "newTag": "2.0"}),
                json!({"name": "db", "newTag": "5"}),
                json!({"name": "cache", "newName": "redis", "newTag": "7"})
            ]
        );
    }

    #[test]
    fn relative_paths_climb_to_the_common_directory() {
        assert_eq!(relative(Path::new("/work/repo/base"), Path::new("/tmp/x1")), "../../work/repo/base");
        assert_eq!(relative(Path::new("/tmp/x1/a"), Path::new("/tmp/x1")), "a");
    }
}
