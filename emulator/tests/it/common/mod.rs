//! Helpers shared by the emulator's integration tests: a started emulator and a thin raw client.
#![allow(dead_code)]

use controld_emulator::{Emulator, EmulatorConfig};
use reqwest::Method;
use serde_json::Value;

pub const TOKEN: &str = "test-token";

pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub emulator: Emulator,
}

/// An answer: HTTP status and the JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
}

impl Answer {
    pub fn code(&self) -> Option<u64> {
        self.json["error"]["code"].as_u64()
    }

    pub fn is_success(&self) -> bool {
        self.status == 200 && self.json["success"] == Value::Bool(true)
    }

    /// Asserts an error envelope with this code and the HTTP status it implies.
    pub fn assert_error(&self, code: u64) {
        assert_eq!(self.json["success"], Value::Bool(false), "{self:?}");
        assert_eq!(self.json["body"], serde_json::json!([]), "{self:?}");
        assert_eq!(self.code(), Some(code), "{self:?}");
        assert_eq!(u64::from(self.status), code / 100, "{self:?}");
    }
}

pub async fn start(config: EmulatorConfig) -> Api {
    let emulator = Emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("emulator starts");
    Api {
        client: reqwest::Client::new(),
        base: emulator.url(),
        emulator,
    }
}

pub async fn start_default() -> Api {
    start(EmulatorConfig::default()).await
}

/// A form body in exactly the given order.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// `do` + `status` first, then `hostnames[]` for each name.
pub fn rules_form(kind: u8, extra: &[(&str, &str)], hostnames: &[String]) -> String {
    let kind = kind.to_string();
    let mut pairs: Vec<(&str, &str)> = vec![("do", kind.as_str()), ("status", "1")];
    pairs.extend_from_slice(extra);
    pairs.extend(hostnames.iter().map(|h| ("hostnames[]", h.as_str())));
    form(&pairs)
}

/// Stats counts (by method or route) from literal pairs.
pub fn counts(pairs: &[(&str, u64)]) -> std::collections::BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Profile p1's default rule, read back.
pub async fn default_rule(api: &Api) -> Value {
    let answer = api.get("/profiles/p1/default").await;
    assert!(answer.is_success(), "{answer:?}");
    answer.json["body"]["default"].clone()
}

pub fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i}.example")).collect()
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<String>,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut builder = self.client.request(method, self.url(path));
        if let Some(token) = token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            builder = builder.header("Content-Type", content_type);
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        builder.send().await.expect("request reaches the emulator")
    }

    /// A plain GET without a token, as the test hooks (`/_emulator/*`) and `/_lists/` are read.
    pub async fn raw_get(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path, None, None, None).await
    }

    /// A test hook's JSON answer, decoded.
    pub async fn hook_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = self.raw_get(path).await;
        response.json().await.expect("the hook answers JSON")
    }

    pub async fn call(&self, method: Method, path: &str, form_body: Option<String>) -> Answer {
        let content_type = form_body
            .as_ref()
            .map(|_| "application/x-www-form-urlencoded");
        let response = self
            .request(method, path, content_type, form_body, Some(TOKEN))
            .await;
        answer(response).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: String) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: String) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Answer {
        let response = self
            .request(
                Method::POST,
                path,
                Some("application/json"),
                Some(body.to_string()),
                Some(TOKEN),
            )
            .await;
        answer(response).await
    }

    pub async fn put_json(&self, path: &str, body: Value) -> Answer {
        let response = self
            .request(
                Method::PUT,
                path,
                Some("application/json"),
                Some(body.to_string()),
                Some(TOKEN),
            )
            .await;
        answer(response).await
    }

    /// One profile's row of `GET /profiles`.
    pub async fn profile_row(&self, id: &str) -> Value {
        let answer = self.get("/profiles").await;
        assert!(answer.is_success(), "{answer:?}");
        let rows = answer.json["body"]["profiles"]
            .as_array()
            .expect("profiles");
        let row = rows
            .iter()
            .find(|row| row["PK"] == id)
            .expect("the profile");
        row.clone()
    }

    /// Creates a folder and returns its PK.
    pub async fn create_folder(&self, name: &str) -> u64 {
        let answer = self
            .post("/profiles/p1/groups", form(&[("name", name), ("do", "0")]))
            .await;
        assert!(answer.is_success(), "{answer:?}");
        answer.json["body"]["groups"][0]["PK"]
            .as_u64()
            .expect("new PK")
    }

    /// Hostnames listed in the root (`None`) or a folder, in listing order.
    pub async fn hostnames(&self, folder: Option<u64>) -> Vec<String> {
        let path = match folder {
            Some(pk) => format!("/profiles/p1/rules/{pk}"),
            None => "/profiles/p1/rules".to_string(),
        };
        let answer = self.get(&path).await;
        assert!(answer.is_success(), "{answer:?}");
        answer.json["body"]["rules"]
            .as_array()
            .expect("rules array")
            .iter()
            .map(|rule| rule["PK"].as_str().expect("hostname").to_string())
            .collect()
    }

    /// Every hostname the profile holds, root and folders.
    pub fn stored_count(&self) -> usize {
        let dump = self.emulator.dump();
        let profile = &dump.profiles["p1"];
        profile.root.len() + profile.folders.iter().map(|f| f.rules.len()).sum::<usize>()
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body readable");
    Answer {
        status,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}
