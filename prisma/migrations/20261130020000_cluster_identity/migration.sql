-- AlterTable
ALTER TABLE "Capp" ADD COLUMN     "cappUid" TEXT,
ADD COLUMN     "clusterUid" TEXT;
