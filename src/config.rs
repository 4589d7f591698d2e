//! The charter's tunables (RULES.md lists them with these defaults). Rules read them as the
//! CEL variable `config` and through the helper functions.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Config {
    /// AWS regions inside India.
    pub india_regions: Vec<String>,
    /// Where production runs.
    pub primary_region: String,
    /// Azure locations inside India.
    pub azure_india_locations: Vec<String>,
    /// Tag whose value names the data-lake layer (matched case-insensitively).
    pub layer_tag: String,
    /// The data-lake layers; a bucket without the tag belongs to the layer its name contains.
    pub layers: Vec<String>,
    /// Tag whose value names the distributor (matched case-insensitively).
    pub distributor_tag: String,
    /// Regular expression whose first group finds a distributor id in a bucket name when the
    /// tag is absent.
    pub distributor_name_pattern: String,
    /// Regular expression an image reference must match to come from the trusted registry.
    pub trusted_registry: String,
}

impl Default for Config {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        Config {
            india_regions: strings(&["ap-south-1", "ap-south-2"]),
            primary_region: "ap-south-1".into(),
            azure_india_locations: strings(&["centralindia", "southindia", "westindia", "jioindiacentral", "jioindiawest"]),
            layer_tag: "layer".into(),
            layers: strings(&["bronze", "silver", "gold", "audit"]),
            distributor_tag: "distributor".into(),
            distributor_name_pattern: r"(?:^|[^a-z0-9])(dst-[0-9]+)(?:$|[^a-z0-9])".into(),
            trusted_registry: r"^[0-9]{12}\.dkr\.ecr\.ap-south-1\.amazonaws\.com/".into(),
        }
    }
}
