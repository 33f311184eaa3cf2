//! The networks list and its verbs: details (the members), inspect, create, remove, prune.
//! A network's members are the containers with an address on it (`Engine::container_address`),
//! running or not: the ones `remove_network` refuses to leave behind. The engine's `network
//! create` has no `--internal`: neither has the form.

use std::collections::{BTreeMap, HashMap};

use berth_engine::network::NetworkRecord;
use berth_engine::{Engine, NetworkCreate};
use serde::Deserialize;

use crate::dto::{network_inspect, ApiError, NetworkDetails, NetworkMember, NetworkSummary};

use super::backend::{blocking, Backend};

#[derive(Debug, Deserialize)]
pub struct NetworkArgs {
    /// A name or an id.
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateNetworkArgs {
    pub name: String,
    /// None (or blank): the next free /24 of the engine's pool.
    #[serde(default)]
    pub subnet: Option<String>,
    /// None (or blank): the subnet's first address.
    #[serde(default)]
    pub gateway: Option<String>,
    /// `KEY=VALUE` (or `KEY`, an empty value), as `--label` takes them.
    #[serde(default)]
    pub labels: Vec<String>,
    /// `--internal`: its containers reach each other and its gateway, nothing beyond.
    #[serde(default)]
    pub internal: bool,
    /// `--ipv6`: its containers get IPv6 addresses too, from the next free /64 of the pool.
    #[serde(default)]
    pub ipv6: bool,
}

/// Every container with an address, by network name.
fn members_by_network(e: &Engine) -> Result<HashMap<String, Vec<NetworkMember>>, ApiError> {
    let mut out: HashMap<String, Vec<NetworkMember>> = HashMap::new();
    for c in e.containers()? {
        if let Some(a) = e.container_address(&c.id)? {
            out.entry(a.network).or_default().push(NetworkMember {
                id: c.id.clone(),
                name: c.name.clone(),
                address: a.ip.to_string(),
            });
        }
    }
    Ok(out)
}

fn details(e: &Engine, n: &NetworkRecord) -> Result<NetworkDetails, ApiError> {
    let members = members_by_network(e)?.remove(&n.name).unwrap_or_default();
    Ok(NetworkDetails::new(n, members))
}

pub async fn list_networks(b: &Backend) -> Result<Vec<NetworkSummary>, ApiError> {
    blocking(&b.engine, |e| {
        let members = members_by_network(e)?;
        Ok(e.networks()?.iter().map(|n| NetworkSummary::new(n, members.get(&n.name).map_or(0, Vec::len))).collect())
    })
    .await
}

/// The network and its members, by address.
pub async fn network_details(b: &Backend, a: NetworkArgs) -> Result<NetworkDetails, ApiError> {
    blocking(&b.engine, move |e| details(e, &e.network(&a.name)?)).await
}

/// `berth network inspect`'s object, with the members under `containers`.
pub async fn inspect_network(b: &Backend, a: NetworkArgs) -> Result<serde_json::Value, ApiError> {
    blocking(&b.engine, move |e| {
        let n = e.network(&a.name)?;
        let d = details(e, &n)?;
        Ok(network_inspect(&n, &d.members))
    })
    .await
}

/// The engine's `NetworkCreate` of the form's fields: the subnet and gateway parsed, blanks
/// left to the engine, the labels as `--label` reads them.
pub fn network_options(a: &CreateNetworkArgs) -> Result<NetworkCreate, ApiError> {
    let typed = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let subnet = match typed(&a.subnet) {
        Some(s) => Some(s.parse::<ipnet::Ipv4Net>().map_err(|_| {
            ApiError::invalid(format!(
                "subnet \"{s}\" is not an IPv4 subnet: write it as an address and a prefix, like 10.90.0.0/24"
            ))
        })?),
        None => None,
    };
    let gateway = match typed(&a.gateway) {
        Some(g) => Some(
            g.parse::<std::net::Ipv4Addr>()
                .map_err(|_| ApiError::invalid(format!("gateway \"{g}\" is not an IPv4 address, like 10.90.0.1")))?,
        ),
        None => None,
    };
    if gateway.is_some() && subnet.is_none() {
        return Err(ApiError::invalid("a gateway needs its subnet: give the subnet too"));
    }
    let mut labels = BTreeMap::new();
    for l in a.labels.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        if k.trim().is_empty() {
            return Err(ApiError::invalid(format!("label \"{l}\" has no key: write KEY=VALUE")));
        }
        labels.insert(k.trim().to_string(), v.to_string());
    }
    Ok(NetworkCreate { subnet, gateway, labels, internal: a.internal, ipv6: a.ipv6, subnet6: None })
}

pub async fn create_network(b: &Backend, a: CreateNetworkArgs) -> Result<NetworkSummary, ApiError> {
    let opts = network_options(&a)?;
    blocking(&b.engine, move |e| Ok(NetworkSummary::new(&e.create_network(a.name.trim(), opts)?, 0))).await
}

/// Refused for the default network, and while containers are on it (the engine's errors).
pub async fn remove_network(b: &Backend, a: NetworkArgs) -> Result<(), ApiError> {
    blocking(&b.engine, move |e| {
        e.remove_network(&a.name, false)?;
        Ok(())
    })
    .await
}

/// Removes every network but the default that no container is on; returns their names.
pub async fn prune_networks(b: &Backend) -> Result<Vec<String>, ApiError> {
    blocking(&b.engine, |e| Ok(e.prune_networks()?)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(subnet: &str, gateway: &str, labels: &[&str]) -> CreateNetworkArgs {
        CreateNetworkArgs {
            name: "backend".into(),
            subnet: Some(subnet.into()),
            gateway: Some(gateway.into()),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            internal: false,
            ipv6: false,
        }
    }

    #[test]
    fn the_forms_fields_become_network_create() {
        let o = network_options(&args(" 10.90.0.0/24 ", "10.90.0.254", &["a=1", "b", "c=x=y", " "])).unwrap();
        assert_eq!(o.subnet, Some("10.90.0.0/24".parse().unwrap()));
        assert_eq!(o.gateway, Some("10.90.0.254".parse().unwrap()));
        let labels: Vec<(&str, &str)> = o.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(labels, [("a", "1"), ("b", ""), ("c", "x=y")]);
        let blank = network_options(&args("", "  ", &[])).unwrap();
        assert_eq!((blank.subnet, blank.gateway, blank.labels.len()), (None, None, 0));
        let none = network_options(&CreateNetworkArgs { name: "n".into(), ..Default::default() }).unwrap();
        assert_eq!((none.subnet, none.gateway), (None, None));
    }

    #[test]
    fn bad_fields_are_refused_naming_them() {
        let check = |a: CreateNetworkArgs, message: &str| {
            let e = network_options(&a).unwrap_err();
            assert_eq!((e.code.as_str(), e.message.as_str()), ("invalid", message));
        };
        check(
            args("10.90.0.0", "", &[]),
            "subnet \"10.90.0.0\" is not an IPv4 subnet: write it as an address and a prefix, like 10.90.0.0/24",
        );
        check(args("10.90.0.0/24", "10.90.0", &[]), "gateway \"10.90.0\" is not an IPv4 address, like 10.90.0.1");
        check(args("", "10.90.0.1", &[]), "a gateway needs its subnet: give the subnet too");
        check(args("", "", &["=v"]), "label \"=v\" has no key: write KEY=VALUE");
    }
}
