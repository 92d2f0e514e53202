//! S3 GetObject as a stream: the body is pulled chunk by chunk through a bounded channel into a
//! blocking `Read`, so memory does not grow with the object's size.
use std::io::{self, Read};

use aws_sdk_s3::Client;

use super::{Body, ObjectSource, SourceError};
use crate::trigger::ObjectRef;

/// Chunks in flight between the network task and the scanner.
const CHANNEL_CHUNKS: usize = 8;

/// Objects from S3 (SSE-S3 and SSE-KMS objects are decrypted by S3 for a caller allowed to).
#[derive(Debug, Clone)]
pub struct S3Source {
    client: Client,
}

impl S3Source {
    pub fn new(client: Client) -> Self {
        S3Source { client }
    }
}

impl S3Source {
    /// The CloudTrail log objects under `s3://bucket/prefix`, in key order (CloudTrail keys sort
    /// by delivery time), digest objects left out.
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectRef>, SourceError> {
        let mut objects = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| SourceError {
                object: format!("s3://{bucket}/{prefix}"),
                reason: format!("cannot list: {}", crate::aws::error_line("S3", &e)),
                source: Some(Box::new(e)),
            })?;
            objects.extend(page.contents().iter().filter_map(|o| {
                let key = o.key()?;
                (!super::is_digest_key(key)).then(|| ObjectRef {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    size: o.size().and_then(|n| u64::try_from(n).ok()),
                    message_id: None,
                })
            }));
        }
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }
}

impl ObjectSource for S3Source {
    async fn open(&self, object: &ObjectRef) -> Result<Body, SourceError> {
        let out = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| SourceError {
                object: object.to_string(),
                reason: crate::aws::error_line("S3", &e),
                source: Some(Box::new(e)),
            })?;
        let mut body = out.body;
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<bytes::Bytes>>(CHANNEL_CHUNKS);
        tokio::spawn(async move {
            loop {
                let item = match body.try_next().await {
                    Ok(Some(chunk)) => Ok(chunk),
                    Ok(None) => break,
                    Err(e) => Err(io::Error::other(e)),
                };
                let stop = item.is_err();
                if tx.send(item).await.is_err() || stop {
                    break; // the reader stopped, or the stream failed
                }
            }
        });
        Ok(Box::new(ChannelReader {
            rx,
            current: bytes::Bytes::new(),
        }))
    }
}

/// A blocking `Read` over chunks sent by an async task. Must be read outside the async runtime
/// (e.g. in `spawn_blocking`).
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<bytes::Bytes>>,
    current: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
