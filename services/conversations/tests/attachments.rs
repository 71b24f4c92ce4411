//! Attachments (CNV-6): streamed upload with limits and checksum, streamed
//! download, participants only, and messages that reference them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Harness, send};
use livedesk_auth::Role;
use livedesk_proto::conversations::v1 as pb;
use livedesk_proto::conversations::v1::upload_attachment_request::Part;
use livedesk_testkit::authed;
use sha2::{Digest, Sha256};

fn parts(
    conversation: &str,
    content_type: &str,
    body: &[u8],
    sha: &str,
) -> Vec<pb::UploadAttachmentRequest> {
    let mut out = vec![pb::UploadAttachmentRequest {
        part: Some(Part::Metadata(pb::AttachmentMetadata {
            conversation_id: conversation.into(),
            file_name: "receipt.pdf".into(),
            content_type: content_type.into(),
            size_bytes: body.len() as u64,
            sha256: sha.into(),
        })),
    }];
    for chunk in body.chunks(4096) {
        out.push(pb::UploadAttachmentRequest {
            part: Some(Part::Chunk(chunk.to_vec())),
        });
    }
    out
}

async fn upload(
    h: &Harness,
    token: &str,
    parts: Vec<pb::UploadAttachmentRequest>,
) -> Result<pb::Attachment, tonic::Status> {
    h.client()
        .await
        .upload_attachment(authed(token, futures::stream::iter(parts)))
        .await
        .map(|r| r.into_inner())
}

async fn download(
    h: &Harness,
    token: &str,
    id: &str,
) -> Result<(pb::Attachment, Vec<u8>), tonic::Status> {
    let mut stream = h
        .client()
        .await
        .download_attachment(authed(
            token,
            pb::DownloadAttachmentRequest { id: id.into() },
        ))
        .await?
        .into_inner();
    let mut meta = None;
    let mut body = Vec::new();
    while let Some(part) = stream.message().await? {
        match part.part {
            Some(pb::download_attachment_response::Part::Metadata(m)) => meta = Some(m),
            Some(pb::download_attachment_response::Part::Chunk(c)) => body.extend(c),
            None => {}
        }
    }
    Ok((meta.unwrap(), body))
}

/// Files under the attachments directory (staging files included).
fn files(dir: &str) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(std::path::Path::new(dir))
}

// spec: CNV-6
#[tokio::test]
async fn a_participant_uploads_in_chunks_and_the_other_side_downloads_the_same_bytes() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let body: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let sha = hex::encode(Sha256::digest(&body));
    let visitor = h.token("v1", Role::Visitor);
    let a = upload(&h, &visitor, parts(&c.id, "application/pdf", &body, &sha))
        .await
        .unwrap();
    assert_eq!(
        (a.size_bytes, a.sha256.as_str(), a.content_type.as_str()),
        (20_000, sha.as_str(), "application/pdf")
    );
    let (meta, got) = download(&h, &h.token("a1", Role::Agent), &a.id)
        .await
        .unwrap();
    assert_eq!(meta.id, a.id);
    assert_eq!(got, body);

    // A message carries it; another conversation's attachment is refused.
    let mut req = send(&c.id, "", "");
    req.attachment_ids = vec![a.id.clone()];
    let m = h
        .client()
        .await
        .send_message(authed(&visitor, req))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.message.unwrap().attachment_ids, vec![a.id.clone()]);
    let other = h.active_chat("v2", "a1").await;
    let mut req = send(&other.id, "see this", "");
    req.attachment_ids = vec![a.id.clone()];
    let err = h
        .client()
        .await
        .send_message(authed(&h.token("v2", Role::Visitor), req))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
}

// spec: CNV-6
// spec: TEN-4
#[tokio::test]
async fn size_type_and_checksum_are_enforced_and_nothing_is_left_behind() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let visitor = h.token("v1", Role::Visitor);
    let body = vec![7u8; 1000];
    let sha = hex::encode(Sha256::digest(&body));
    // The harness limit is 64 KiB; the declared size says less than is sent.
    let big = vec![1u8; 70_000];
    let mut lying = parts(&c.id, "image/png", &big, "");
    if let Some(Part::Metadata(m)) = &mut lying[0].part {
        m.size_bytes = 0;
    }
    let cases = [
        lying,
        parts(&c.id, "application/x-msdownload", &body, &sha),
        parts(&c.id, "image/png", &body, &"0".repeat(64)),
        parts(&c.id, "image/png", &[], ""),
        vec![pb::UploadAttachmentRequest {
            part: Some(Part::Chunk(vec![1])),
        }],
    ];
    for case in cases {
        let err = upload(&h, &visitor, case).await.unwrap_err();
        assert_eq!(
            err.code(),
            tonic::Code::InvalidArgument,
            "{}",
            err.message()
        );
    }
    assert_eq!(h.count("SELECT count(*) AS n FROM attachments").await, 0);
    assert_eq!(
        files(&h.attachments_dir),
        0,
        "no object or staging file left"
    );
    upload(&h, &visitor, parts(&c.id, "image/png", &body, &sha))
        .await
        .unwrap();
    assert_eq!(files(&h.attachments_dir), 1);
}

// spec: CNV-6
// spec: TEN-2
// spec: TEN-3
#[tokio::test]
async fn only_participants_upload_and_download() {
    let h = Harness::start().await;
    let c = h.active_chat("v1", "a1").await;
    let body = b"hello".to_vec();
    let a = upload(
        &h,
        &h.token("a1", Role::Agent),
        parts(&c.id, "text/plain", &body, ""),
    )
    .await
    .unwrap();
    let stranger = h
        .env
        .token(livedesk_testkit::new_org(), "v1", Role::Visitor);
    for (token, code) in [
        (h.token("v2", Role::Visitor), tonic::Code::NotFound),
        (h.token("a2", Role::Agent), tonic::Code::NotFound),
        (
            h.token("sup", Role::Supervisor),
            tonic::Code::PermissionDenied,
        ),
        (stranger, tonic::Code::NotFound),
    ] {
        assert_eq!(download(&h, &token, &a.id).await.unwrap_err().code(), code);
        let err = upload(&h, &token, parts(&c.id, "text/plain", &body, ""))
            .await
            .unwrap_err();
        assert_eq!(err.code(), code);
    }
    assert_eq!(
        download(&h, &h.token("v1", Role::Visitor), &a.id)
            .await
            .unwrap()
            .1,
        body
    );
    assert_eq!(h.count("SELECT count(*) AS n FROM attachments").await, 1);
}
