-- CreateEnum
CREATE TYPE "SyncState" AS ENUM ('Pending', 'Synced', 'Failed');

-- CreateEnum
CREATE TYPE "RevisionSource" AS ENUM ('api', 'cluster', 'rollback');

-- CreateTable
CREATE TABLE "Capp" (
    "id" UUID NOT NULL,
    "namespace" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "annotations" JSONB NOT NULL DEFAULT '{}',
    "status" JSONB,
    "version" INTEGER NOT NULL DEFAULT 1,
    "syncState" "SyncState" NOT NULL DEFAULT 'Pending',
    "syncError" TEXT,
    "syncAttempts" INTEGER NOT NULL DEFAULT 0,
    "deletedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Capp_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CappRevision" (
    "id" UUID NOT NULL,
    "cappId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "spec" JSONB NOT NULL,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "annotations" JSONB NOT NULL DEFAULT '{}',
    "source" "RevisionSource" NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT,

    CONSTRAINT "CappRevision_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Capp_syncState_idx" ON "Capp"("syncState");

-- CreateIndex
CREATE UNIQUE INDEX "Capp_namespace_name_key" ON "Capp"("namespace", "name");

-- CreateIndex
CREATE UNIQUE INDEX "CappRevision_cappId_number_key" ON "CappRevision"("cappId", "number");

-- AddForeignKey
ALTER TABLE "CappRevision" ADD CONSTRAINT "CappRevision_cappId_fkey" FOREIGN KEY ("cappId") REFERENCES "Capp"("id") ON DELETE CASCADE ON UPDATE CASCADE;
