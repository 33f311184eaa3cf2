//! The networks list (`NetworkSummary`), a network's members (`NetworkDetails`), and the
//! object its Inspect tab shows (`network_inspect`: `berth network inspect`'s, with its
//! members under `containers` as Podman 5 gives them).

use std::collections::BTreeMap;

use berth_engine::network::{NetworkRecord, DEFAULT_NETWORK};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;

/// A row of the networks list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSummary {
    pub name: String,
    pub id: String,
    pub driver: String,
    /// The Linux bridge.
    pub interface: String,
    pub subnet: String,
    pub gateway: String,
    /// Whether its members find each other by name (its own name server): user networks only.
    pub dns: bool,
    /// Unix seconds.
    pub created: i64,
    pub labels: BTreeMap<String, String>,
    /// The containers with an address on it, running or not.
    pub members: u32,
    /// The default network (`berth`): it cannot be removed.
    pub is_default: bool,
    /// `--internal`: no way out of it.
    pub internal: bool,
    /// `--ipv6`: its IPv6 subnet ("" without).
    pub subnet6: String,
}

impl NetworkSummary {
    pub fn new(n: &NetworkRecord, members: usize) -> NetworkSummary {
        NetworkSummary {
            name: n.name.clone(),
            id: n.id.clone(),
            driver: n.driver.clone(),
            interface: n.bridge.clone(),
            subnet: n.subnet.to_string(),
            gateway: n.gateway.to_string(),
            dns: n.dns,
            created: n.created.timestamp(),
            labels: n.labels.clone(),
            members: u32::try_from(members).unwrap_or(u32::MAX),
            is_default: n.name == DEFAULT_NETWORK,
            internal: n.internal,
            subnet6: n.subnet6.map(|s| s.to_string()).unwrap_or_default(),
        }
    }
}

/// A container on a network, and its address there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NetworkMember {
    pub id: String,
    pub name: String,
    pub address: String,
}

/// A network and its members, by address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NetworkDetails {
    pub network: NetworkSummary,
    pub members: Vec<NetworkMember>,
}

impl NetworkDetails {
    /// `members` in any order: they are listed by address.
    pub fn new(n: &NetworkRecord, mut members: Vec<NetworkMember>) -> NetworkDetails {
        members.sort_by_key(|m| (m.address.parse::<std::net::Ipv4Addr>().ok(), m.name.clone()));
        NetworkDetails { network: NetworkSummary::new(n, members.len()), members }
    }
}

/// The object `berth network inspect` prints for `n` (Podman's fields), with its members under
/// `containers`, each by id with its name and address, as Podman 5 adds them.
pub fn network_inspect(n: &NetworkRecord, members: &[NetworkMember]) -> Value {
    let containers: serde_json::Map<String, Value> = members
        .iter()
        .map(|m| {
            let ipnet = format!("{}/{}", m.address, n.prefix());
            let iface = json!({"subnets": [{"ipnet": ipnet, "gateway": n.gateway.to_string()}]});
            (m.id.clone(), json!({"name": m.name, "interfaces": {"eth0": iface}}))
        })
        .collect();
    let mut v = berth_engine::network_inspect(n);
    v["containers"] = Value::Object(containers);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn record(name: &str, dns: bool) -> NetworkRecord {
        NetworkRecord {
            name: name.into(),
            id: "ab".repeat(32),
            driver: "bridge".into(),
            bridge: "berth1".into(),
            subnet: "10.90.3.0/24".parse().unwrap(),
            gateway: "10.90.3.1".parse().unwrap(),
            dns,
            created: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            labels: BTreeMap::from([("team".to_string(), "web".to_string())]),
            internal: false,
            subnet6: None,
        }
    }

    fn member(name: &str, address: &str) -> NetworkMember {
        NetworkMember { id: format!("{name}-id"), name: name.into(), address: address.into() }
    }

    #[test]
    fn network_rows_in_the_contracts_json() {
        let s = NetworkSummary::new(&record("backend", true), 2);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "name": "backend", "id": "ab".repeat(32), "driver": "bridge", "interface": "berth1",
                "subnet": "10.90.3.0/24", "gateway": "10.90.3.1", "dns": true, "created": 1_700_000_000,
                "labels": {"team": "web"}, "members": 2, "isDefault": false, "internal": false, "subnet6": "",
            })
        );
        let default = NetworkSummary::new(&record(DEFAULT_NETWORK, false), 0);
        assert!(default.is_default && !default.dns);
    }

    #[test]
    fn members_are_listed_by_address_not_as_text() {
        let d = NetworkDetails::new(
            &record("backend", true),
            vec![member("c", "10.90.3.10"), member("a", "10.90.3.9"), member("b", "10.90.3.2")],
        );
        let names: Vec<&str> = d.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert_eq!(d.network.members, 3);
    }

    #[test]
    fn inspect_has_podmans_fields_and_the_members() {
        let v = network_inspect(&record("backend", true), &[member("web", "10.90.3.2")]);
        assert_eq!(v["name"], "backend");
        assert_eq!(v["dns_enabled"], true);
        assert_eq!(v["internal"], false);
        assert_eq!(v["subnets"], json!([{"subnet": "10.90.3.0/24", "gateway": "10.90.3.1"}]));
        assert_eq!(v["labels"], json!({"team": "web"}));
        assert_eq!(
            v["containers"],
            json!({"web-id": {"name": "web", "interfaces": {"eth0": {"subnets": [{"ipnet": "10.90.3.2/24", "gateway": "10.90.3.1"}]}}}})
        );
        let empty = network_inspect(&record("lonely", true), &[]);
        assert_eq!(empty["containers"], json!({}));
    }
}
