//! The streaming side of `ExportCsv` (RPT-4): a task reads the cursor a
//! batch at a time, writes CSV into a buffer and sends ~64 KiB chunks
//! through a small bounded channel. A slow client slows the reader
//! (back-pressure), so memory stays constant whatever the export's size.
use livedesk_proto::reporting::v1::CsvChunk;
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use uuid::Uuid;

use super::cells::{cells, header};
use crate::domain::{ChunkedCsv, CsvOptions, ExportKind, Range, Scope};
use crate::error::Error;
use crate::store::ExportCursor;

/// Chunks in flight between the reader and the client.
const CHANNEL_CHUNKS: usize = 2;

/// Opens the cursor (so errors opening it answer the RPC itself) and
/// spawns the writer.
pub async fn start(
    db: DatabaseConnection,
    org_id: Uuid,
    scope: Scope,
    kind: ExportKind,
    range: Range,
    options: CsvOptions,
) -> Result<ReceiverStream<Result<CsvChunk, Status>>, Error> {
    let cursor = ExportCursor::open(&db, kind, org_id, range, &scope).await?;
    let csv = ChunkedCsv::new(options, header(kind))?;
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    tokio::spawn(async move {
        let rows = match write_all(cursor, csv, &tx).await {
            Ok(rows) => rows,
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        tracing::info!(%org_id, ?kind, rows, "csv export done");
    });
    Ok(ReceiverStream::new(rx))
}

/// Writes every row; returns how many, or stops early (Ok) when the
/// client went away.
async fn write_all(
    cursor: ExportCursor,
    mut csv: ChunkedCsv,
    tx: &mpsc::Sender<Result<CsvChunk, Status>>,
) -> Result<u64, Error> {
    let mut rows = 0u64;
    loop {
        let batch = cursor.next_batch().await?;
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            csv.row(cells(row))?;
            rows += 1;
            if let Some(data) = csv.take_full_chunk()?
                && tx.send(Ok(CsvChunk { data })).await.is_err()
            {
                tracing::info!(rows, "csv export abandoned by the client");
                cursor.close().await?;
                return Ok(rows);
            }
        }
    }
    cursor.close().await?;
    let last = csv.finish()?;
    if !last.is_empty() {
        let _ = tx.send(Ok(CsvChunk { data: last })).await;
    }
    Ok(rows)
}
