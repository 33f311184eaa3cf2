//! A registry that wants bearer tokens, like Docker Hub, and the testkit's token server.

use std::io::{Read, Write};
use std::net::TcpStream;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use berth_testkit::registry::{TOKEN_ISSUER, TOKEN_SERVICE};
use berth_testkit::{push_image, Compression, ImageSpec, LayerBuilder, Registry};
use serde_json::{json, Value};

use crate::support::{skopeo_inspect, skopeo_inspect_output};

/// `GET` over plain HTTP/1.0: (status, headers as one string, body).
fn http_get(url: &str, basic: Option<(&str, &str)>) -> (u16, String, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(host).unwrap();
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n");
    if let Some((user, pass)) = basic {
        request += &format!("Authorization: Basic {}\r\n", STANDARD.encode(format!("{user}:{pass}")));
    }
    stream.write_all(format!("{request}\r\n").as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer");
    let head = String::from_utf8(answer[..split].to_vec()).unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, answer[split + 4..].to_vec())
}

fn claims(jwt: &str) -> Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

fn small_spec() -> ImageSpec {
    let mut layer = LayerBuilder::new();
    layer.dir("data", 0o755).file("data/x", "x\n", 0o644);
    ImageSpec::new().layer(layer.build(), Compression::Gzip)
}

#[tokio::test]
async fn token_auth_push_and_pull() {
    let registry = Registry::start_with_token_auth("berth", "s3cret").unwrap();
    assert_eq!(registry.credentials(), Some(("berth", "s3cret")));
    assert_eq!(registry.tokens_issued(), 0);

    let pushed = push_image(registry.addr(), registry.credentials(), "private/img:1", &small_spec()).await.unwrap();
    let after_push = registry.tokens_issued();
    assert!(after_push > 0, "the push must have fetched tokens");

    let inspect = skopeo_inspect(registry.addr(), "private/img:1", false, Some("berth:s3cret"));
    assert_eq!(inspect["Digest"], pushed.manifest_digest.as_str());
    assert!(registry.tokens_issued() > after_push, "skopeo must have fetched a token too");

    let anonymous = skopeo_inspect_output(registry.addr(), "private/img:1", false, None);
    assert!(!anonymous.status.success());
    let stderr = String::from_utf8_lossy(&anonymous.stderr);
    assert!(stderr.contains("authentication required"), "{stderr}");

    // denied by the token server already, not by the registry
    let wrong = skopeo_inspect_output(registry.addr(), "private/img:1", false, Some("berth:wrong"));
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("unable to retrieve auth token"), "{stderr}");

    let anonymous_push = push_image(registry.addr(), None, "private/img:2", &small_spec()).await;
    assert!(anonymous_push.is_err(), "an anonymous push must fail");
    let wrong_push = push_image(registry.addr(), Some(("berth", "wrong")), "private/img:2", &small_spec()).await;
    assert!(wrong_push.is_err(), "a push with a wrong password must fail");
}

#[test]
fn challenge_and_token_server() {
    let registry = Registry::start_with_token_auth("berth", "s3cret").unwrap();
    let realm = registry.token_realm().unwrap();
    assert!(realm.starts_with("http://127.0.0.1:") && realm.ends_with("/token"), "{realm}");

    let (status, head, _) = http_get(&format!("http://{}/v2/", registry.addr()), None);
    assert_eq!(status, 401);
    let challenge = format!("Bearer realm=\"{realm}\",service=\"{TOKEN_SERVICE}\"");
    assert!(head.contains(&challenge), "{head}");
    // the registry answers basic credentials with the same challenge: only tokens will do
    let (status, _, _) = http_get(&format!("http://{}/v2/", registry.addr()), Some(("berth", "s3cret")));
    assert_eq!(status, 401);

    let url = format!("{realm}?service={TOKEN_SERVICE}&scope=repository%3Aa%2Fb%3Apull%2Cpush&account=berth");
    let (status, _, body) = http_get(&url, Some(("berth", "s3cret")));
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["token"], answer["access_token"]);
    assert_eq!(answer["expires_in"], 300);
    assert!(answer["issued_at"].as_str().unwrap().ends_with('Z'), "{answer}");
    let token = answer["token"].as_str().unwrap();
    let c = claims(token);
    assert_eq!(c["iss"], TOKEN_ISSUER);
    assert_eq!(c["aud"], TOKEN_SERVICE);
    assert_eq!(c["sub"], "berth");
    assert_eq!(c["access"], json!([{"type": "repository", "name": "a/b", "actions": ["pull", "push"]}]));
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["x5c"].as_array().unwrap().len(), 1);

    // the registry takes the token
    let mut stream = TcpStream::connect(registry.addr()).unwrap();
    write!(stream, "GET /v2/ HTTP/1.0\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"), "{answer}");

    // ...and checks its signature: the same token with other claims is refused
    let parts: Vec<&str> = token.split('.').collect();
    let mut forged = c.clone();
    forged["access"][0]["name"] = json!("c/d");
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(forged.to_string()), parts[2]);
    let mut stream = TcpStream::connect(registry.addr()).unwrap();
    write!(stream, "GET /v2/ HTTP/1.0\r\nAuthorization: Bearer {forged}\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 401") || answer.starts_with("HTTP/1.1 401"), "{answer}");

    let (status, _, body) = http_get(&url, None);
    assert_eq!(status, 200, "anonymous requests get a token");
    let anonymous = claims(serde_json::from_slice::<Value>(&body).unwrap()["token"].as_str().unwrap());
    assert_eq!(anonymous["sub"], "");
    assert_eq!(anonymous["access"], json!([]));

    let (status, _, _) = http_get(&url, Some(("berth", "wrong")));
    assert_eq!(status, 401);
    let (status, _, _) = http_get(&url, Some(("someone", "s3cret")));
    assert_eq!(status, 401);
    assert_eq!(registry.tokens_issued(), 2);

    // the token server goes away with the registry
    drop(registry);
    assert!(TcpStream::connect(realm.trim_start_matches("http://").trim_end_matches("/token")).is_err());
}

#[test]
fn other_registries_issue_no_tokens() {
    let registry = Registry::start().unwrap();
    assert_eq!(registry.tokens_issued(), 0);
    assert_eq!(registry.token_realm(), None);
}
